//! The `articles` aggregate on PostgreSQL: as `store/sqlite/articles.rs`, plus claims. The pages
//! `pending_pages` returns are claimed for this worker (a `page_claims` row until the lease
//! ends); recording the outcome releases the claim.

use super::{PgResult, PgStore, narrow};
use crate::model::{ItemId, UnixTime};
use crate::store::{ArticleRecord, PendingPage, StoreError};

impl PgStore {
    pub fn pending_pages(
        &self,
        now: UnixTime,
        limit: usize,
        exclude: &[ItemId],
    ) -> Result<Vec<PendingPage>, StoreError> {
        let lease_until = now + self.lease_secs();
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            let pick = tx
                .prepare_cached(
                    "SELECT i.id, i.feed_id, i.url, coalesce(i.content, i.summary), coalesce(a.attempts, 0)
                     FROM items i
                     JOIN feeds f ON f.id = i.feed_id
                     LEFT JOIN articles a ON a.item_id = i.id
                     LEFT JOIN page_claims c ON c.item_id = i.id
                     WHERE f.extract AND i.url IS NOT NULL
                       -- Checked once per query (a one-time filter in PostgreSQL's plan): with no
                       -- feed extracting, the items are not scanned at all.
                       AND EXISTS (SELECT 1 FROM feeds WHERE extract)
                       AND (a.item_id IS NULL OR (a.status = 'retry' AND a.next_attempt_at <= $1))
                       AND (c.item_id IS NULL OR c.claim_until <= $1 OR c.claimed_by = $2)
                       AND NOT (i.id = ANY($4))
                     ORDER BY i.id DESC LIMIT $3
                     FOR UPDATE OF i SKIP LOCKED",
                )
                .await?;
            let rows = tx
                .query(&pick, &[&now, &self.worker, &(limit as i64), &exclude])
                .await?;
            let pages = rows
                .iter()
                .map(|r| {
                    Ok(PendingPage {
                        item_id: r.try_get(0)?,
                        feed_id: r.try_get(1)?,
                        url: r.try_get(2)?,
                        feed_html: r.try_get(3)?,
                        attempts: narrow(r.try_get(4)?),
                    })
                })
                .collect::<PgResult<Vec<_>>>()?;
            let ids: Vec<ItemId> = pages.iter().map(|p| p.item_id).collect();
            tx.execute(
                "INSERT INTO page_claims (item_id, claimed_by, claim_until) SELECT unnest($1::bigint[]), $2, $3
                 ON CONFLICT (item_id) DO UPDATE SET claimed_by = excluded.claimed_by, claim_until = excluded.claim_until",
                &[&ids, &self.worker, &lease_until],
            )
            .await?;
            tx.commit().await?;
            Ok(pages)
        })
    }

    pub fn record_article(
        &self,
        item_id: ItemId,
        article: &ArticleRecord,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        self.run(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "INSERT INTO articles (item_id, status, method, text, title, byline, published, language,
                    lead_image_url, http_status, error, attempts, next_attempt_at, extracted_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13)
                 ON CONFLICT (item_id) DO UPDATE SET status = excluded.status, method = excluded.method,
                    text = excluded.text, title = excluded.title, byline = excluded.byline,
                    published = excluded.published, language = excluded.language,
                    lead_image_url = excluded.lead_image_url, http_status = excluded.http_status,
                    error = excluded.error, attempts = articles.attempts + 1,
                    next_attempt_at = excluded.next_attempt_at, extracted_at = excluded.extracted_at",
                &[
                    &item_id,
                    &article.status,
                    &article.method,
                    &article.text,
                    &article.title,
                    &article.byline,
                    &article.published,
                    &article.language,
                    &article.lead_image_url,
                    &article.http_status.map(i64::from),
                    &article.error,
                    &article.next_attempt_at,
                    &now,
                ],
            )
            .await?;
            if let Some(text) = article.text.as_deref().filter(|t| !t.is_empty()) {
                super::search::index_article_text(&tx, item_id, text).await?;
                tx.execute(
                    "UPDATE items SET match_state = least(match_state, 1) WHERE id = $1",
                    &[&item_id],
                )
                .await?;
            }
            tx.execute("DELETE FROM page_claims WHERE item_id = $1", &[&item_id])
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    pub fn article(&self, item_id: ItemId) -> Result<Option<ArticleRecord>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let row = client
                .query_opt(
                    "SELECT status, method, text, error, http_status, next_attempt_at FROM articles WHERE item_id = $1",
                    &[&item_id],
                )
                .await?;
            row.map(|r| {
                Ok(ArticleRecord {
                    status: r.try_get(0)?,
                    method: r.try_get(1)?,
                    text: r.try_get(2)?,
                    error: r.try_get(3)?,
                    http_status: r.try_get::<_, Option<i64>>(4)?.map(narrow),
                    next_attempt_at: r.try_get(5)?,
                    ..ArticleRecord::default()
                })
            })
            .transpose()
        })
    }
}
