//! The stories aggregate on SQLite: the members of recent stories, and an item joining one
//! (starting it, or merging the stories it bridges). The decisions are in `store/stories.rs`.

use rusqlite::{Transaction, params};

use crate::model::{StoryKey, UnixTime};
use crate::notify::story::{lead_from_bytes, lead_to_bytes};
use crate::store::stories::{
    DeliveryFacts, RecentStories, StoryChoice, StoryMember, delivery_settled, plan_merge,
};
use crate::store::{DeliveryPlan, MatchedItem};

/// The members of stories joined since `since`.
pub(super) fn load_recent(tx: &Transaction, since: UnixTime) -> rusqlite::Result<RecentStories> {
    let mut stmt = tx.prepare_cached(
        "SELECT story_id, url, title_hash, title_words, lead FROM story_members WHERE joined_at >= ?1",
    )?;
    let members = stmt
        .query_map([since], |r| {
            Ok(StoryMember {
                story_id: r.get(0)?,
                key: StoryKey {
                    url: r.get(1)?,
                    title_hash: r.get::<_, i64>(2)? as u64,
                    title_words: r.get(3)?,
                    lead: lead_from_bytes(&r.get::<_, Vec<u8>>(4)?),
                },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(RecentStories::new(members))
}

/// Joins `item` to the story its copies form, starting or merging stories as
/// [`RecentStories::choose`] and [`plan_merge`] decide; returns the story's id.
pub(super) fn join_story(
    tx: &Transaction,
    plan: &DeliveryPlan,
    stories: &mut RecentStories,
    item: &MatchedItem,
    now: UnixTime,
) -> rusqlite::Result<i64> {
    let story_id = match stories.choose(&item.story, plan.same_story) {
        StoryChoice::Join(id) => id,
        StoryChoice::New => {
            tx.prepare_cached("INSERT INTO stories (url, created_at) VALUES (?1, ?2)")?
                .execute(params![item.story.url, now])?;
            tx.last_insert_rowid()
        }
        StoryChoice::Several(ids) => {
            let facts = delivery_facts(tx, &ids, now)?;
            match plan_merge(&ids, &facts) {
                Some(merge) => {
                    for id in &merge.delete {
                        tx.prepare_cached("DELETE FROM deliveries WHERE id = ?1")?
                            .execute([id])?;
                    }
                    for id in &merge.repoint {
                        tx.prepare_cached("UPDATE deliveries SET story_id = ?2 WHERE id = ?1")?
                            .execute(params![id, merge.keep])?;
                    }
                    for (id, status, due_at) in &merge.upgrade {
                        tx.prepare_cached(
                            "UPDATE deliveries SET status = ?2, due_at = ?3 WHERE id = ?1",
                        )?
                        .execute(params![id, status, due_at])?;
                    }
                    for absorbed in &merge.absorbed {
                        for sql in [
                            "UPDATE items SET story_id = ?2 WHERE story_id = ?1",
                            "UPDATE story_members SET story_id = ?2 WHERE story_id = ?1",
                        ] {
                            tx.prepare_cached(sql)?
                                .execute(params![absorbed, merge.keep])?;
                        }
                        tx.prepare_cached("DELETE FROM stories WHERE id = ?1")?
                            .execute([absorbed])?;
                    }
                    stories.merge(merge.keep, &merge.absorbed);
                    merge.keep
                }
                None => ids[0],
            }
        }
    };
    tx.prepare_cached(
        "INSERT OR REPLACE INTO story_members (item_id, story_id, url, title_hash, title_words, lead, joined_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        item.item_id,
        story_id,
        item.story.url,
        item.story.title_hash as i64,
        item.story.title_words,
        lead_to_bytes(&item.story.lead),
        now
    ])?;
    tx.prepare_cached("UPDATE items SET story_id = ?2 WHERE id = ?1")?
        .execute(params![item.item_id, story_id])?;
    stories.add(story_id, item.story.clone());
    Ok(story_id)
}

/// What a merge must know of the deliveries of `stories`.
fn delivery_facts(
    tx: &Transaction,
    stories: &[i64],
    now: UnixTime,
) -> rusqlite::Result<Vec<DeliveryFacts>> {
    let mut stmt = tx.prepare_cached(
        "SELECT id, story_id, channel, topic, status, due_at, attempts,
                batch_key IS NOT NULL, digest_run_id IS NOT NULL
         FROM deliveries WHERE story_id = ?1",
    )?;
    let mut facts = Vec::new();
    for story in stories {
        let rows = stmt.query_map([story], |r| {
            let channel: String = r.get(2)?;
            let status: String = r.get(4)?;
            let due_at: i64 = r.get(5)?;
            let settled = delivery_settled(
                &channel,
                &status,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                false,
                due_at,
                now,
            );
            Ok(DeliveryFacts {
                id: r.get(0)?,
                story_id: r.get(1)?,
                channel,
                topic: r.get(3)?,
                status,
                due_at,
                settled,
            })
        })?;
        for row in rows {
            facts.push(row?);
        }
    }
    Ok(facts)
}
