//! PostgreSQL migrations: a `tidings_schema` table holds the version; each missing migration
//! is applied, with the version bumps, in one transaction under an advisory lock so that
//! workers starting at once migrate one after another.

use deadpool_postgres::Pool;

use super::{PgError, PgResult};
use crate::store::StoreError;

/// The advisory lock key taken while migrating ("tdgs").
const MIGRATION_LOCK: i64 = 0x7464_6773;

pub(super) async fn migrate(
    pool: &Pool,
    migrations: &[(&str, &str)],
    application: &str,
) -> PgResult<()> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let has_schema: bool = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables
                            WHERE table_schema = current_schema() AND table_name = 'tidings_schema')",
            &[],
        )
        .await?
        .try_get(0)?;
    let version: i64 = if has_schema {
        let row = tx
            .query_one("SELECT application, version FROM tidings_schema", &[])
            .await?;
        let app: String = row.try_get(0)?;
        if app != application {
            return Err(PgError::Store(StoreError::Refused(format!(
                "the database's tidings_schema names `{app}`, not tidings; refusing to touch it"
            ))));
        }
        row.try_get(1)?
    } else {
        let tables: i64 = tx
            .query_one(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            )
            .await?
            .try_get(0)?;
        if tables > 0 {
            return Err(PgError::Store(StoreError::Refused(format!(
                "the database's schema already holds {tables} tables and no tidings_schema; \
                 refusing to touch it (use an empty database)"
            ))));
        }
        tx.batch_execute(
            "CREATE TABLE tidings_schema (application TEXT NOT NULL, version BIGINT NOT NULL)",
        )
        .await?;
        tx.execute(
            "INSERT INTO tidings_schema (application, version) VALUES ($1, 0)",
            &[&application],
        )
        .await?;
        0
    };
    let supported = migrations.len() as i64;
    if version > supported {
        return Err(PgError::Store(StoreError::Refused(format!(
            "the database has schema version {version}, newer than this tidings ({supported}); upgrade tidings"
        ))));
    }
    for (index, (name, sql)) in migrations.iter().enumerate() {
        let target = index as i64 + 1;
        if target <= version {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| {
            PgError::Store(StoreError::Refused(format!(
                "migration {name} failed: {}",
                super::describe(&e)
            )))
        })?;
        tx.execute("UPDATE tidings_schema SET version = $1", &[&target])
            .await?;
        tracing::info!(
            migration = name,
            version = target,
            "applied database migration"
        );
    }
    tx.commit().await?;
    Ok(())
}
