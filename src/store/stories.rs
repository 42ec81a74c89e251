//! How an item joins a story, backend-neutral: the decisions both backends carry out in the
//! transaction that records a match. A story is known by every copy's fingerprint (its
//! members), so a new copy joins the story whose any member it resembles, whichever copy came
//! first; a copy that resembles several stories merges them, unless each of them has already
//! been told to the same channel (then it joins the oldest).

use std::collections::BTreeMap;

use crate::model::{StoryKey, UnixTime};

/// One copy of a story, as stored (`story_members`).
#[derive(Debug, Clone)]
pub struct StoryMember {
    pub story_id: i64,
    pub key: StoryKey,
}

/// The members of stories joined within the lookback window, loaded once per transaction and
/// kept up to date as the transaction joins and merges.
#[derive(Debug, Default)]
pub struct RecentStories {
    members: Vec<StoryMember>,
}

/// Where a new copy goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoryChoice {
    /// No recent story resembles it: it starts one.
    New,
    /// It joins this story.
    Join(i64),
    /// It resembles several stories: the first (the oldest) and the others, which it may merge.
    Several(Vec<i64>),
}

impl RecentStories {
    pub fn new(members: Vec<StoryMember>) -> RecentStories {
        RecentStories { members }
    }

    /// The stories (oldest first) with a member that carries the same story as `key`.
    pub fn choose(
        &self,
        key: &StoryKey,
        same_story: &dyn Fn(&StoryKey, &StoryKey) -> bool,
    ) -> StoryChoice {
        let mut ids: Vec<i64> = self
            .members
            .iter()
            .filter(|m| same_story(&m.key, key))
            .map(|m| m.story_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        match ids.len() {
            0 => StoryChoice::New,
            1 => StoryChoice::Join(ids[0]),
            _ => StoryChoice::Several(ids),
        }
    }

    /// Records a member the transaction stored.
    pub fn add(&mut self, story_id: i64, key: StoryKey) {
        self.members.push(StoryMember { story_id, key });
    }

    /// Records a merge the transaction carried out.
    pub fn merge(&mut self, keep: i64, absorbed: &[i64]) {
        for m in &mut self.members {
            if absorbed.contains(&m.story_id) {
                m.story_id = keep;
            }
        }
    }
}

/// What a merge must know of one delivery of the stories it would merge.
#[derive(Debug, Clone)]
pub struct DeliveryFacts {
    pub id: i64,
    pub story_id: i64,
    pub channel: String,
    pub topic: String,
    pub status: String,
    pub due_at: UnixTime,
    /// Sent, given up on, or possibly being sent now (see [`delivery_settled`]): a merge
    /// never removes it.
    pub settled: bool,
}

/// Whether a delivery may be on its way to the receiver or already there, so a merge must
/// keep it: sent or dead; attempted; taken into a webhook batch or a digest; claimed by a
/// worker; or a webhook delivery whose story window has ended (the dispatcher may have it).
#[allow(clippy::too_many_arguments)]
pub fn delivery_settled(
    channel: &str,
    status: &str,
    attempts: i64,
    batch_key: bool,
    digest_run: bool,
    claimed: bool,
    due_at: UnixTime,
    now: UnixTime,
) -> bool {
    let webhook = channel.starts_with("webhook:");
    matches!(status, "sent" | "dead")
        || attempts > 0
        || batch_key
        || digest_run
        || claimed
        || (webhook && matches!(status, "held" | "pending") && due_at <= now)
}

/// How the transaction merges stories into one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MergePlan {
    /// The story that stays.
    pub keep: i64,
    /// The stories whose copies and deliveries move to `keep`.
    pub absorbed: Vec<i64>,
    /// Deliveries that move to `keep` (the one delivery of their channel and topic).
    pub repoint: Vec<i64>,
    /// Deliveries that go: their story is told by the delivery that stays.
    pub delete: Vec<i64>,
    /// A delivery that stays but takes a status (and due time) of one that goes: a fresh
    /// copy makes a story held back as old news deliverable, as a fresh match would.
    pub upgrade: Vec<(i64, String, UnixTime)>,
}

/// Plans merging `stories` (oldest first) given their deliveries; `None` when two of them
/// have a settled delivery on the same channel and topic (told twice already: they stay
/// apart, and the new copy joins the oldest).
pub fn plan_merge(stories: &[i64], deliveries: &[DeliveryFacts]) -> Option<MergePlan> {
    let keep = *stories.first()?;
    let mut plan = MergePlan {
        keep,
        absorbed: stories[1..].to_vec(),
        ..MergePlan::default()
    };
    let mut groups: BTreeMap<(&str, &str), Vec<&DeliveryFacts>> = BTreeMap::new();
    for d in deliveries {
        groups.entry((&d.channel, &d.topic)).or_default().push(d);
    }
    for group in groups.values() {
        if group.iter().filter(|d| d.settled).count() > 1 {
            return None;
        }
        // The one that stays: a settled one, else the kept story's, else the oldest story's.
        let survivor = group
            .iter()
            .min_by_key(|d| (!d.settled, d.story_id != keep, d.story_id, d.id))
            .expect("a group has a delivery");
        if survivor.story_id != keep {
            plan.repoint.push(survivor.id);
        }
        let deliverable = |s: &str| matches!(s, "held" | "pending");
        if !survivor.settled
            && !deliverable(&survivor.status)
            && let Some(fresh) = group.iter().find(|d| deliverable(&d.status))
        {
            plan.upgrade
                .push((survivor.id, fresh.status.clone(), fresh.due_at));
        }
        plan.delete
            .extend(group.iter().filter(|d| d.id != survivor.id).map(|d| d.id));
    }
    plan.repoint.sort_unstable();
    plan.delete.sort_unstable();
    Some(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::story::{same_story, story_key};

    fn facts(id: i64, story_id: i64, status: &str, settled: bool) -> DeliveryFacts {
        DeliveryFacts {
            id,
            story_id,
            channel: "webhook:ops".into(),
            topic: "nk".into(),
            status: status.into(),
            due_at: 100,
            settled,
        }
    }

    #[test]
    fn a_copy_joins_the_story_of_any_member_it_resembles() {
        let text = "Russian and North Korean officials signed a treaty on Wednesday pledging \
            mutual military assistance, the state news agency said, in a ceremony in Pyongyang.";
        let first = story_key(None, "Russia, North Korea sign defence treaty", text);
        let other = story_key(
            None,
            "Floods hit the Amur region",
            "Heavy rain flooded villages along the Amur river for a third day on Tuesday.",
        );
        let mut stories = RecentStories::new(vec![
            StoryMember {
                story_id: 7,
                key: other,
            },
            StoryMember {
                story_id: 3,
                key: first,
            },
        ]);
        let copy = story_key(
            None,
            "UPDATE: Russia, North Korea sign defence treaty",
            text,
        );
        assert_eq!(stories.choose(&copy, &same_story), StoryChoice::Join(3));
        stories.add(9, copy.clone());
        assert_eq!(
            stories.choose(&copy, &same_story),
            StoryChoice::Several(vec![3, 9])
        );
        stories.merge(3, &[9]);
        assert_eq!(stories.choose(&copy, &same_story), StoryChoice::Join(3));
    }

    #[test]
    fn a_merge_keeps_one_delivery_per_channel_and_topic() {
        // Story 4 was held back as old news; story 9 has a fresh held delivery.
        let plan = plan_merge(
            &[4, 9],
            &[facts(10, 4, "backfill", false), facts(11, 9, "held", false)],
        )
        .unwrap();
        assert_eq!(plan.keep, 4);
        assert_eq!(plan.absorbed, vec![9]);
        assert_eq!(plan.delete, vec![11]);
        assert!(plan.repoint.is_empty());
        assert_eq!(plan.upgrade, vec![(10, "held".to_string(), 100)]);
    }

    #[test]
    fn a_settled_delivery_stays_and_moves_to_the_kept_story() {
        let plan = plan_merge(
            &[4, 9],
            &[facts(10, 4, "held", false), facts(11, 9, "sent", true)],
        )
        .unwrap();
        assert_eq!(plan.repoint, vec![11]);
        assert_eq!(plan.delete, vec![10]);
        assert!(plan.upgrade.is_empty());
    }

    #[test]
    fn stories_told_twice_are_not_merged() {
        assert_eq!(
            plan_merge(
                &[4, 9],
                &[facts(10, 4, "sent", true), facts(11, 9, "sent", true)]
            ),
            None
        );
    }

    #[test]
    fn settled_means_possibly_on_its_way() {
        let now = 1_000;
        assert!(delivery_settled(
            "webhook:a",
            "sent",
            1,
            false,
            false,
            false,
            0,
            now
        ));
        assert!(delivery_settled(
            "webhook:a",
            "held",
            0,
            false,
            false,
            false,
            now,
            now
        ));
        assert!(!delivery_settled(
            "webhook:a",
            "held",
            0,
            false,
            false,
            false,
            now + 1,
            now
        ));
        assert!(!delivery_settled(
            "digest:m", "pending", 0, false, false, false, 0, now
        ));
        assert!(delivery_settled(
            "digest:m", "pending", 0, false, true, false, 0, now
        ));
        assert!(delivery_settled(
            "webhook:a",
            "held",
            0,
            false,
            false,
            true,
            now + 9,
            now
        ));
        assert!(!delivery_settled(
            "webhook:a",
            "backfill",
            0,
            false,
            false,
            false,
            0,
            now
        ));
    }
}
