//! How a refresh stores each item, decided once for both backends: an item whose key was
//! deleted by retention stays deleted, one stored under the key an earlier version gave it
//! takes its new key, a new one is stored, an edited one updated, the rest left alone.

use crate::model::{ItemId, NewItem, UnixTime};

/// A date further ahead than this is "in the future": the item is dated when first seen.
const FUTURE_TOLERANCE_SECS: i64 = 10 * 60;

/// What a refresh does with one item, given what the store holds of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemChange {
    /// Already stored as it is, or deleted by retention (a tombstone): nothing to write.
    Unchanged,
    /// Stored under its former key (`NewItem::former_key`): give that row the new key.
    Rekey(ItemId),
    /// Never seen: store it.
    New,
    /// Stored with other content: update it (and match it again).
    Edited(ItemId),
}

/// The change for `item`: `tombstoned` when its key was pruned, `current` the row stored
/// under its key (id, content hash), `former` the row stored under its former key when no row
/// has its key.
pub(crate) fn item_change(
    item: &NewItem,
    tombstoned: bool,
    current: Option<(ItemId, &str)>,
    former: Option<ItemId>,
) -> ItemChange {
    if tombstoned {
        return ItemChange::Unchanged;
    }
    match (current, former) {
        (None, Some(id)) => ItemChange::Rekey(id),
        (None, None) => ItemChange::New,
        (Some((_, hash)), _) if hash == item.content_hash => ItemChange::Unchanged,
        (Some((id, _)), _) => ItemChange::Edited(id),
    }
}

/// The date a new item is stored under: its own, unless that is in the future.
pub(crate) fn stored_published_at(item: &NewItem, now: UnixTime) -> UnixTime {
    match item.published_original {
        Some(t) if t <= now + FUTURE_TOLERANCE_SECS => t,
        _ => now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(hash: &str, published: Option<UnixTime>) -> NewItem {
        NewItem {
            dedup_key: "k".into(),
            guid: None,
            url: None,
            title: None,
            summary: None,
            content: None,
            author: None,
            published_original: published,
            content_hash: hash.into(),
            former_key: None,
        }
    }

    #[test]
    fn each_case_of_a_stored_key() {
        let it = item("h1", None);
        assert_eq!(
            item_change(&it, true, Some((7, "h0")), None),
            ItemChange::Unchanged
        );
        assert_eq!(item_change(&it, false, None, Some(3)), ItemChange::Rekey(3));
        assert_eq!(item_change(&it, false, None, None), ItemChange::New);
        assert_eq!(
            item_change(&it, false, Some((7, "h1")), None),
            ItemChange::Unchanged
        );
        assert_eq!(
            item_change(&it, false, Some((7, "h0")), None),
            ItemChange::Edited(7)
        );
    }

    #[test]
    fn a_date_in_the_future_is_the_first_sighting() {
        let now = 1_000_000;
        assert_eq!(stored_published_at(&item("h", Some(now - 5)), now), now - 5);
        assert_eq!(
            stored_published_at(&item("h", Some(now + 60)), now),
            now + 60
        );
        assert_eq!(stored_published_at(&item("h", Some(now + 3_600)), now), now);
        assert_eq!(stored_published_at(&item("h", None), now), now);
    }
}
