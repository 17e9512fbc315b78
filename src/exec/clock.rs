//! The virtual clock: a queue of timed events popped in (time, insertion) order, so runs are
//! deterministic and nothing sleeps.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Virtual time in milliseconds since the run started.
pub type Millis = u64;

/// A deterministic discrete-event clock holding events of type `E`.
#[derive(Debug)]
pub struct Clock<E> {
    now: Millis,
    seq: u64,
    queue: BinaryHeap<Reverse<(Millis, u64, usize)>>,
    events: Vec<Option<E>>,
}

impl<E> Default for Clock<E> {
    fn default() -> Self {
        Clock::starting_at(0)
    }
}

impl<E> Clock<E> {
    /// A clock whose time starts at `now` (nested runs start at their parent's attempt).
    pub fn starting_at(now: Millis) -> Clock<E> {
        Clock {
            now,
            seq: 0,
            queue: BinaryHeap::new(),
            events: Vec::new(),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> Millis {
        self.now
    }

    /// Schedules an event at an absolute time (never earlier than now).
    pub fn at(&mut self, when: Millis, event: E) {
        let when = when.max(self.now);
        self.events.push(Some(event));
        self.queue
            .push(Reverse((when, self.seq, self.events.len() - 1)));
        self.seq += 1;
    }

    /// True when no event is waiting.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// Advances to the earliest event and returns every event due at that time, in insertion order.
    pub fn advance(&mut self) -> Vec<E> {
        let Some(Reverse((when, _, _))) = self.queue.peek().copied() else {
            return Vec::new();
        };
        self.now = when;
        let mut out = Vec::new();
        while let Some(Reverse((t, _, ix))) = self.queue.peek().copied() {
            if t != when {
                break;
            }
            self.queue.pop();
            if let Some(e) = self.events.get_mut(ix).and_then(Option::take) {
                out.push(e);
            }
        }
        out
    }
}

/// Virtual milliseconds as seconds for traces.
pub fn seconds(ms: Millis) -> f64 {
    ms as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion() {
        let mut c = Clock::default();
        c.at(5, "b");
        c.at(1, "a");
        c.at(5, "c");
        assert_eq!(c.advance(), vec!["a"]);
        assert_eq!(c.now(), 1);
        assert_eq!(c.advance(), vec!["b", "c"]);
        assert_eq!(c.now(), 5);
        assert!(c.is_idle());
        assert!(c.advance().is_empty());
        c.at(0, "late");
        assert_eq!(c.advance(), vec!["late"]);
        assert_eq!(c.now(), 5);
    }
}
