//! The demo cluster's silences. The demo's alerts stand for Alertmanager's,
//! so silencing one from the feed, or acknowledging its incident, holds it
//! back as Alertmanager would: reported as suppressed, with the silences
//! that hold it, until they end or are expired. They live as long as the
//! app runs (a real Alertmanager keeps its own).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use sentinel_model::{Alert, AlertState, Labels, SilenceNote, Timestamp};
use sentinel_prom::{Matcher, NewSilence};

/// Silences kept; past this, those that ended first are forgotten.
const MAX_KEPT: usize = 1_000;

#[derive(Debug, Clone, Default)]
pub struct DemoSilences {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    created: u64,
    kept: Vec<Kept>,
}

#[derive(Debug)]
struct Kept {
    id: String,
    silence: NewSilence,
    expired: bool,
}

impl Kept {
    fn holds_at(&self, at: Timestamp) -> bool {
        !self.expired && self.silence.starts_at <= at && at < self.silence.ends_at
    }
}

/// Whether every matcher holds for `labels`; a missing label reads as
/// empty, as in Alertmanager.
fn matches(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| {
        let value = labels.get(&m.name).map_or("", String::as_str);
        (value == m.value) == m.is_equal
    })
}

impl DemoSilences {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing is left half-done under the lock; a panic elsewhere
        // while holding it leaves the list as it was.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Creates a silence, or with an id replaces that one (an extension),
    /// as Alertmanager's `POST /api/v2/silences` does; answers its id.
    pub fn create(&self, s: &NewSilence) -> Result<String, String> {
        if s.matchers.is_empty() {
            return Err("a silence needs at least one matcher".into());
        }
        if let Some(m) = s.matchers.iter().find(|m| m.is_regex) {
            return Err(format!(
                "the demo matches labels by value, not by the regular expression {:?} for {}",
                m.value, m.name
            ));
        }
        if s.ends_at <= s.starts_at {
            return Err("the silence ends before it starts".into());
        }
        let mut inner = self.lock();
        if let Some(id) = &s.id {
            let Some(k) = inner.kept.iter_mut().find(|k| &k.id == id) else {
                return Err(format!("silence {id} not found"));
            };
            if k.expired {
                return Err(format!("silence {id} already expired"));
            }
            k.silence = s.clone();
            return Ok(id.clone());
        }
        inner.created += 1;
        let id = format!("demo-{:04}", inner.created);
        if inner.kept.len() >= MAX_KEPT {
            // The one that ended first goes (an expired one ended then).
            if let Some(first) = (0..inner.kept.len()).min_by_key(|&i| {
                let k = &inner.kept[i];
                (!k.expired, k.silence.ends_at)
            }) {
                inner.kept.remove(first);
            }
        }
        inner.kept.push(Kept {
            id: id.clone(),
            silence: NewSilence {
                id: Some(id.clone()),
                ..s.clone()
            },
            expired: false,
        });
        Ok(id)
    }

    /// Ends a silence at `now`, as `DELETE /api/v2/silence/{id}` does.
    pub fn expire(&self, id: &str, now: Timestamp) -> Result<(), String> {
        let mut inner = self.lock();
        let Some(k) = inner.kept.iter_mut().find(|k| k.id == id) else {
            return Err(format!("silence {id} not found"));
        };
        if k.expired || k.silence.ends_at <= now {
            return Err(format!("silence {id} already expired"));
        }
        k.expired = true;
        k.silence.ends_at = now.max(k.silence.starts_at);
        Ok(())
    }

    /// Holds back the alerts that silences in force at `at` match, as
    /// Alertmanager reports them: suppressed, each with the ids of the
    /// silences holding it. Answers those silences, for the feed to name.
    pub fn hold(&self, at: Timestamp, alerts: &mut [Alert]) -> Vec<SilenceNote> {
        let inner = self.lock();
        let in_force: Vec<&Kept> = inner.kept.iter().filter(|k| k.holds_at(at)).collect();
        if in_force.is_empty() {
            return Vec::new();
        }
        let mut holding = BTreeSet::new();
        for a in alerts.iter_mut() {
            let ids: Vec<String> = in_force
                .iter()
                .filter(|k| matches(&k.silence.matchers, &a.labels))
                .map(|k| k.id.clone())
                .collect();
            if !ids.is_empty() {
                holding.extend(ids.iter().cloned());
                a.state = AlertState::Suppressed;
                a.silenced_by = ids;
            }
        }
        in_force
            .into_iter()
            .filter(|k| holding.contains(&k.id))
            .map(|k| SilenceNote {
                id: k.id.clone(),
                ends_at: k.silence.ends_at,
                created_by: k.silence.created_by.clone(),
                comment: k.silence.comment.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use sentinel_model::Duration;

    use super::*;

    fn alert(pod: &str) -> Alert {
        Alert {
            fingerprint: format!("fp-{pod}"),
            labels: [
                ("alertname", "KubePodNotReady"),
                ("namespace", "shop"),
                ("pod", pod),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            annotations: Labels::new(),
            starts_at: Timestamp::from_secs(1_000),
            ends_at: None,
            state: AlertState::Active,
            generator_url: String::new(),
            silenced_by: Vec::new(),
            inhibited_by: Vec::new(),
        }
    }

    fn silence(matchers: Vec<Matcher>, from: Timestamp, mins: i64) -> NewSilence {
        NewSilence {
            id: None,
            matchers,
            starts_at: from,
            ends_at: from.saturating_add(Duration::from_mins(mins)),
            created_by: "ana".into(),
            comment: "planned".into(),
        }
    }

    #[test]
    fn a_silence_holds_back_what_it_matches_while_in_force() {
        let d = DemoSilences::default();
        let t0 = Timestamp::from_secs(2_000);
        let id = d
            .create(&silence(
                vec![Matcher::equal("alertname", "KubePodNotReady"), {
                    let mut m = Matcher::equal("pod", "web-2");
                    m.is_equal = false;
                    m
                }],
                t0,
                30,
            ))
            .unwrap();
        let mut alerts = vec![alert("web-1"), alert("web-2")];
        let notes = d.hold(t0, &mut alerts);
        assert_eq!(alerts[0].state, AlertState::Suppressed);
        assert_eq!(alerts[0].silenced_by, vec![id.clone()]);
        // `pod!="web-2"` leaves web-2 firing.
        assert_eq!(alerts[1].state, AlertState::Active);
        assert!(alerts[1].silenced_by.is_empty());
        assert_eq!(notes.len(), 1);
        assert_eq!(
            (notes[0].id.as_str(), notes[0].created_by.as_str()),
            (id.as_str(), "ana")
        );
        // Before it starts and once it ends, nothing is held.
        for at in [
            Timestamp::from_secs(1_999),
            Timestamp::from_secs(2_000 + 30 * 60),
        ] {
            let mut alerts = vec![alert("web-1")];
            assert!(d.hold(at, &mut alerts).is_empty());
            assert_eq!(alerts[0].state, AlertState::Active);
        }
    }

    #[test]
    fn silences_are_extended_and_expired_as_alertmanager_does() {
        let d = DemoSilences::default();
        let t0 = Timestamp::from_secs(2_000);
        let s = silence(vec![Matcher::equal("pod", "web-1")], t0, 30);
        let id = d.create(&s).unwrap();
        // Extended by id: the same silence, a later end.
        let later = NewSilence {
            id: Some(id.clone()),
            ..silence(vec![Matcher::equal("pod", "web-1")], t0, 90)
        };
        assert_eq!(d.create(&later).unwrap(), id);
        let mut alerts = vec![alert("web-1")];
        let notes = d.hold(Timestamp::from_secs(2_000 + 60 * 60), &mut alerts);
        assert_eq!(notes[0].ends_at, later.ends_at);
        // Expired: it holds nothing from then on, and cannot be expired or
        // extended again.
        let now = Timestamp::from_secs(2_100);
        d.expire(&id, now).unwrap();
        let mut alerts = vec![alert("web-1")];
        assert!(d.hold(now, &mut alerts).is_empty());
        assert_eq!(alerts[0].state, AlertState::Active);
        assert!(d.expire(&id, now).unwrap_err().contains("already expired"));
        assert!(d.create(&later).unwrap_err().contains("already expired"));
        assert!(
            d.expire("demo-9999", now)
                .unwrap_err()
                .contains("not found")
        );
    }

    #[test]
    fn bad_silences_are_refused_with_the_reason() {
        let d = DemoSilences::default();
        let t0 = Timestamp::from_secs(2_000);
        assert!(d.create(&silence(Vec::new(), t0, 30)).is_err());
        assert!(
            d.create(&silence(vec![Matcher::equal("pod", "x")], t0, 0))
                .is_err()
        );
        let mut regex = Matcher::equal("pod", "web-.*");
        regex.is_regex = true;
        let err = d.create(&silence(vec![regex], t0, 30)).unwrap_err();
        assert!(err.contains("regular expression"), "{err}");
    }

    #[test]
    fn the_list_stays_bounded_forgetting_what_ended_first() {
        let d = DemoSilences::default();
        let t0 = Timestamp::from_secs(2_000);
        let first = d
            .create(&silence(vec![Matcher::equal("pod", "web-1")], t0, 30))
            .unwrap();
        d.expire(&first, t0).unwrap();
        let long = d
            .create(&silence(vec![Matcher::equal("pod", "web-1")], t0, 600))
            .unwrap();
        for _ in 0..MAX_KEPT {
            d.create(&silence(vec![Matcher::equal("pod", "web-2")], t0, 60))
                .unwrap();
        }
        assert_eq!(d.lock().kept.len(), MAX_KEPT);
        // The expired one went first, then those ending soonest; the
        // longest still holds.
        assert!(d.expire(&first, t0).unwrap_err().contains("not found"));
        let mut alerts = vec![alert("web-1")];
        d.hold(Timestamp::from_secs(2_000 + 120 * 60), &mut alerts);
        assert_eq!(alerts[0].silenced_by, vec![long]);
    }
}
