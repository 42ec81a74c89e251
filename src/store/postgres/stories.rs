//! The stories aggregate on PostgreSQL: as `store/sqlite/stories.rs` (callers hold the story
//! lock, so workers join and merge stories one transaction at a time).

use deadpool_postgres::Transaction;

use super::PgResult;
use crate::model::{StoryKey, UnixTime};
use crate::notify::story::{lead_from_bytes, lead_to_bytes};
use crate::store::stories::{
    DeliveryFacts, RecentStories, StoryChoice, StoryMember, delivery_settled, plan_merge,
};
use crate::store::{DeliveryPlan, MatchedItem};

/// The members of stories joined since `since`.
pub(super) async fn load_recent(tx: &Transaction<'_>, since: UnixTime) -> PgResult<RecentStories> {
    let rows = tx
        .query(
            "SELECT story_id, url, title_hash, title_words, lead FROM story_members WHERE joined_at >= $1",
            &[&since],
        )
        .await?;
    let members = rows
        .iter()
        .map(|r| {
            Ok(StoryMember {
                story_id: r.try_get(0)?,
                key: StoryKey {
                    url: r.try_get(1)?,
                    title_hash: r.try_get::<_, i64>(2)? as u64,
                    title_words: r.try_get::<_, i64>(3)? as u32,
                    lead: lead_from_bytes(r.try_get::<_, &[u8]>(4)?),
                },
            })
        })
        .collect::<PgResult<Vec<_>>>()?;
    Ok(RecentStories::new(members))
}

/// Joins `item` to the story its copies form, starting or merging stories as
/// [`RecentStories::choose`] and [`plan_merge`] decide; returns the story's id.
pub(super) async fn join_story(
    tx: &Transaction<'_>,
    plan: &DeliveryPlan<'_>,
    stories: &mut RecentStories,
    item: &MatchedItem,
    now: UnixTime,
) -> PgResult<i64> {
    let story_id = match stories.choose(&item.story, plan.same_story) {
        StoryChoice::Join(id) => id,
        StoryChoice::New => tx
            .query_one(
                "INSERT INTO stories (url, created_at) VALUES ($1, $2) RETURNING id",
                &[&item.story.url, &now],
            )
            .await?
            .try_get(0)?,
        StoryChoice::Several(ids) => {
            let facts = delivery_facts(tx, &ids, now).await?;
            match plan_merge(&ids, &facts) {
                Some(merge) => {
                    tx.execute(
                        "DELETE FROM deliveries WHERE id = ANY($1)",
                        &[&merge.delete],
                    )
                    .await?;
                    tx.execute(
                        "UPDATE deliveries SET story_id = $2 WHERE id = ANY($1)",
                        &[&merge.repoint, &merge.keep],
                    )
                    .await?;
                    for (id, status, due_at) in &merge.upgrade {
                        tx.execute(
                            "UPDATE deliveries SET status = $2, due_at = $3 WHERE id = $1",
                            &[id, status, due_at],
                        )
                        .await?;
                    }
                    for sql in [
                        "UPDATE items SET story_id = $2 WHERE story_id = ANY($1)",
                        "UPDATE story_members SET story_id = $2 WHERE story_id = ANY($1)",
                    ] {
                        tx.execute(sql, &[&merge.absorbed, &merge.keep]).await?;
                    }
                    tx.execute("DELETE FROM stories WHERE id = ANY($1)", &[&merge.absorbed])
                        .await?;
                    stories.merge(merge.keep, &merge.absorbed);
                    merge.keep
                }
                None => ids[0],
            }
        }
    };
    tx.execute(
        "INSERT INTO story_members (item_id, story_id, url, title_hash, title_words, lead, joined_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (item_id) DO UPDATE SET story_id = excluded.story_id, url = excluded.url,
             title_hash = excluded.title_hash, title_words = excluded.title_words,
             lead = excluded.lead, joined_at = excluded.joined_at",
        &[
            &item.item_id,
            &story_id,
            &item.story.url,
            &(item.story.title_hash as i64),
            &i64::from(item.story.title_words),
            &lead_to_bytes(&item.story.lead),
            &now,
        ],
    )
    .await?;
    tx.execute(
        "UPDATE items SET story_id = $2 WHERE id = $1",
        &[&item.item_id, &story_id],
    )
    .await?;
    stories.add(story_id, item.story.clone());
    Ok(story_id)
}

/// What a merge must know of the deliveries of `stories`.
async fn delivery_facts(
    tx: &Transaction<'_>,
    stories: &[i64],
    now: UnixTime,
) -> PgResult<Vec<DeliveryFacts>> {
    let rows = tx
        .query(
            "SELECT id, story_id, channel, topic, status, due_at, attempts,
                    batch_key IS NOT NULL, digest_run_id IS NOT NULL,
                    claimed_by IS NOT NULL AND claim_until > $2
             FROM deliveries WHERE story_id = ANY($1) ORDER BY story_id, id",
            &[&stories, &now],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let channel: String = r.try_get(2)?;
            let status: String = r.try_get(4)?;
            let due_at: i64 = r.try_get(5)?;
            let settled = delivery_settled(
                &channel,
                &status,
                r.try_get(6)?,
                r.try_get(7)?,
                r.try_get(8)?,
                r.try_get(9)?,
                due_at,
                now,
            );
            Ok(DeliveryFacts {
                id: r.try_get(0)?,
                story_id: r.try_get(1)?,
                channel,
                topic: r.try_get(3)?,
                status,
                due_at,
                settled,
            })
        })
        .collect()
}
