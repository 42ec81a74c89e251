//! Work waiting per host, started within a per-host limit and in turn across hosts. Each
//! decision (add, start the next, finish) is O(1): a host's address is read once, when its
//! work is added, and only hosts with work waiting and a free slot are ever looked at.

use std::collections::{HashMap, VecDeque};

/// The politeness unit of a URL: `host:port` (the scheme's default port when none is given);
/// empty when the URL does not parse.
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
}

/// A host known to a [`HostQueues`]; valid while it has work running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HostId(usize);

#[derive(Debug)]
struct Host<T> {
    name: String,
    waiting: VecDeque<T>,
    running: usize,
    /// Whether the host is in the turn order (`ready`).
    queued: bool,
}

/// Work of type `T` waiting per host. At most `per_host` items of one host run at once;
/// hosts with work waiting and a free slot take turns, one item each, in the order they
/// became ready, so a host with a thousand feeds does not hold back a host with one. The
/// global limit is the caller's: it asks for the next item only while it has room.
#[derive(Debug)]
pub struct HostQueues<T> {
    per_host: usize,
    hosts: Vec<Host<T>>,
    ids: HashMap<String, HostId>,
    /// Slots of hosts that hold no work, for reuse.
    free: Vec<HostId>,
    /// Hosts with work waiting and a free slot, in turn order; each at most once.
    ready: VecDeque<HostId>,
    waiting: usize,
    running: usize,
}

impl<T> HostQueues<T> {
    /// Queues whose hosts run at most `per_host` items at once (at least one).
    pub fn new(per_host: usize) -> HostQueues<T> {
        HostQueues {
            per_host: per_host.max(1),
            hosts: Vec::new(),
            ids: HashMap::new(),
            free: Vec::new(),
            ready: VecDeque::new(),
            waiting: 0,
            running: 0,
        }
    }

    /// Items waiting to start.
    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// Items started and not finished.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Whether an item could start now (some host has work waiting and a free slot).
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Adds `item` behind the host's other waiting work. `host` is the politeness key
    /// (see [`host_of`]).
    pub fn push(&mut self, host: &str, item: T) {
        let id = match self.ids.get(host) {
            Some(&id) => id,
            None => self.add_host(host),
        };
        self.hosts[id.0].waiting.push_back(item);
        self.waiting += 1;
        self.make_ready(id);
    }

    /// Takes the next waiting item in turn across hosts and counts it as running on its host
    /// until [`finish`](Self::finish) is called with the returned id.
    pub fn start_next(&mut self) -> Option<(HostId, T)> {
        let id = self.ready.pop_front()?;
        let per_host = self.per_host;
        let host = &mut self.hosts[id.0];
        host.queued = false;
        let item = host
            .waiting
            .pop_front()
            .expect("a ready host has work waiting");
        host.running += 1;
        self.waiting -= 1;
        self.running += 1;
        if !host.waiting.is_empty() && host.running < per_host {
            // Back of the line: the other ready hosts go first.
            host.queued = true;
            self.ready.push_back(id);
        }
        Some((id, item))
    }

    /// Items of `host` (one returned by [`start_next`](Self::start_next)) still waiting.
    pub fn waiting_on(&self, host: HostId) -> usize {
        self.hosts[host.0].waiting.len()
    }

    /// Frees the slot an item started by [`start_next`](Self::start_next) held on `host`.
    pub fn finish(&mut self, host: HostId) {
        let h = &mut self.hosts[host.0];
        debug_assert!(h.running > 0, "finish without start on {}", h.name);
        h.running = h.running.saturating_sub(1);
        self.running = self.running.saturating_sub(1);
        self.make_ready(host);
        self.forget_if_idle(host);
    }

    /// Drops every waiting item (running ones keep their slots): the caller is about to add a
    /// fresher list.
    pub fn clear_waiting(&mut self) {
        for id in std::mem::take(&mut self.ready) {
            self.hosts[id.0].queued = false;
        }
        let busy: Vec<HostId> = self.ids.values().copied().collect();
        for id in busy {
            let host = &mut self.hosts[id.0];
            self.waiting -= host.waiting.len();
            host.waiting.clear();
            self.forget_if_idle(id);
        }
    }

    /// Changes the per-host limit (a config reload); running items keep their slots.
    pub fn set_per_host(&mut self, per_host: usize) {
        let per_host = per_host.max(1);
        if per_host == self.per_host {
            return;
        }
        self.per_host = per_host;
        let ids: Vec<HostId> = self.ids.values().copied().collect();
        for id in ids {
            self.make_ready(id);
        }
    }

    fn add_host(&mut self, name: &str) -> HostId {
        let host = Host {
            name: name.to_string(),
            waiting: VecDeque::new(),
            running: 0,
            queued: false,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.hosts[id.0] = host;
                id
            }
            None => {
                self.hosts.push(host);
                HostId(self.hosts.len() - 1)
            }
        };
        self.ids.insert(name.to_string(), id);
        id
    }

    /// Puts the host in the turn order if it has work waiting and a free slot.
    fn make_ready(&mut self, id: HostId) {
        let host = &mut self.hosts[id.0];
        if !host.queued && !host.waiting.is_empty() && host.running < self.per_host {
            host.queued = true;
            self.ready.push_back(id);
        }
    }

    /// A host with nothing waiting or running is forgotten, so the queues hold only the
    /// hosts of work in hand.
    fn forget_if_idle(&mut self, id: HostId) {
        let host = &mut self.hosts[id.0];
        if host.running == 0 && host.waiting.is_empty() && !host.queued {
            let name = std::mem::take(&mut host.name);
            host.waiting = VecDeque::new();
            self.ids.remove(&name);
            self.free.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the queue like a dispatcher: starts while fewer than `global` run, finishes the
    /// oldest running item each round; returns the order items started in and the largest
    /// numbers running at once, overall and per host.
    fn drive(
        queues: &mut HostQueues<(String, usize)>,
        global: usize,
    ) -> (Vec<(String, usize)>, usize, HashMap<String, usize>) {
        let mut order = Vec::new();
        let mut running: VecDeque<(HostId, String)> = VecDeque::new();
        let mut per_host: HashMap<String, usize> = HashMap::new();
        let mut peak_host: HashMap<String, usize> = HashMap::new();
        let mut peak = 0;
        loop {
            while running.len() < global {
                let Some((id, (host, n))) = queues.start_next() else {
                    break;
                };
                let busy = per_host.entry(host.clone()).or_default();
                *busy += 1;
                let top = peak_host.entry(host.clone()).or_default();
                *top = (*top).max(*busy);
                running.push_back((id, host.clone()));
                order.push((host, n));
            }
            peak = peak.max(running.len());
            assert_eq!(queues.running(), running.len());
            let Some((id, host)) = running.pop_front() else {
                break;
            };
            *per_host.get_mut(&host).unwrap() -= 1;
            queues.finish(id);
        }
        assert_eq!(queues.waiting(), 0);
        assert_eq!(queues.running(), 0);
        (order, peak, peak_host)
    }

    fn fill(queues: &mut HostQueues<(String, usize)>, host: &str, n: usize) {
        for i in 0..n {
            queues.push(host, (host.to_string(), i));
        }
    }

    #[test]
    fn host_of_is_host_and_port() {
        assert_eq!(host_of("https://Example.org/feed"), "example.org:443");
        assert_eq!(host_of("http://127.0.0.1:8080/f/1.xml"), "127.0.0.1:8080");
        assert_eq!(host_of("http://example.org/a"), "example.org:80");
        assert_eq!(host_of("not a url"), "");
    }

    #[test]
    fn one_host_never_runs_more_than_its_limit() {
        let mut queues = HostQueues::new(2);
        fill(&mut queues, "big:80", 1000);
        let (order, peak, peak_host) = drive(&mut queues, 32);
        assert_eq!(order.len(), 1000);
        assert_eq!(peak, 2);
        assert_eq!(peak_host["big:80"], 2);
        // A host's own work keeps its order.
        assert!(order.windows(2).all(|w| w[0].1 < w[1].1));
    }

    #[test]
    fn the_global_limit_holds_across_many_hosts() {
        let mut queues = HostQueues::new(2);
        for h in 0..500 {
            fill(&mut queues, &format!("h{h}:80"), 3);
        }
        let (order, peak, peak_host) = drive(&mut queues, 32);
        assert_eq!(order.len(), 1500);
        assert_eq!(peak, 32);
        assert!(peak_host.values().all(|&n| n <= 2), "{peak_host:?}");
    }

    #[test]
    fn a_big_host_does_not_hold_back_small_ones() {
        // 300 feeds on one host queued first, then 20 hosts with one feed each: the small
        // hosts start in the first round, beside the big host's two slots.
        let mut queues = HostQueues::new(2);
        fill(&mut queues, "big:443", 300);
        for h in 0..20 {
            fill(&mut queues, &format!("small{h}:443"), 1);
        }
        let mut first_round = Vec::new();
        while first_round.len() < 32 {
            let Some((_, (host, _))) = queues.start_next() else {
                break;
            };
            first_round.push(host);
        }
        assert_eq!(first_round.len(), 22);
        assert_eq!(first_round.iter().filter(|h| *h == "big:443").count(), 2);
        assert!((0..20).all(|h| first_round.contains(&format!("small{h}:443"))));
    }

    #[test]
    fn ready_hosts_take_turns() {
        let mut queues = HostQueues::new(1);
        fill(&mut queues, "a:80", 3);
        fill(&mut queues, "b:80", 3);
        fill(&mut queues, "c:80", 3);
        // With room for everyone, each host's turn gives one item, then the next host's.
        let mut started = Vec::new();
        let mut ids = Vec::new();
        for _ in 0..3 {
            while let Some((id, (host, _))) = queues.start_next() {
                started.push(host);
                ids.push(id);
            }
            for id in ids.drain(..) {
                queues.finish(id);
            }
        }
        assert_eq!(
            started,
            [
                "a:80", "b:80", "c:80", "a:80", "b:80", "c:80", "a:80", "b:80", "c:80"
            ]
        );
    }

    #[test]
    fn cleared_work_is_gone_and_running_slots_stay_held() {
        let mut queues = HostQueues::new(1);
        fill(&mut queues, "a:80", 5);
        let (id, _) = queues.start_next().unwrap();
        queues.clear_waiting();
        assert_eq!(queues.waiting(), 0);
        assert!(!queues.has_ready());
        // Fresh work for the busy host waits for its slot.
        fill(&mut queues, "a:80", 2);
        assert!(queues.start_next().is_none());
        queues.finish(id);
        assert_eq!(
            queues.start_next().map(|(_, (h, n))| (h, n)),
            Some(("a:80".into(), 0))
        );
    }

    #[test]
    fn idle_hosts_are_forgotten_and_their_slots_reused() {
        let mut queues = HostQueues::new(2);
        for round in 0..100 {
            let host = format!("h{round}:80");
            fill(&mut queues, &host, 2);
            let (a, _) = queues.start_next().unwrap();
            let (b, _) = queues.start_next().unwrap();
            queues.finish(a);
            queues.finish(b);
        }
        assert!(queues.ids.is_empty());
        assert_eq!(queues.hosts.len(), 1);
    }

    #[test]
    fn the_last_item_of_a_host_is_known_when_it_starts() {
        let mut queues = HostQueues::new(2);
        fill(&mut queues, "a:80", 2);
        fill(&mut queues, "b:80", 1);
        let (a, _) = queues.start_next().unwrap();
        assert_eq!(queues.waiting_on(a), 1);
        let (b, _) = queues.start_next().unwrap();
        assert_eq!(queues.waiting_on(b), 0);
        let (a2, _) = queues.start_next().unwrap();
        assert_eq!((a2, queues.waiting_on(a2)), (a, 0));
    }

    #[test]
    fn a_raised_limit_lets_waiting_work_start() {
        let mut queues = HostQueues::new(1);
        fill(&mut queues, "a:80", 3);
        assert!(queues.start_next().is_some());
        assert!(queues.start_next().is_none());
        queues.set_per_host(3);
        assert!(queues.start_next().is_some());
        assert!(queues.start_next().is_some());
        assert!(queues.start_next().is_none());
        assert_eq!(queues.running(), 3);
    }
}
