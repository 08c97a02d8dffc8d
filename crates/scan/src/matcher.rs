//! The hot path: one Aho-Corasick pass over every byte, then each candidate rule's regex only on
//! the line (or span) around a keyword hit, then validators and overlap resolution.
//!
//! Most files contain no keyword at all, so their cost is the prefilter pass alone; that is what
//! makes the scan fast. A [`Hit`] borrows the scanned bytes and holds the raw secret, so it has no
//! `Debug` and never leaves the crate: it becomes a [`crate::Finding`] (fingerprint + redacted
//! preview) at once.

use aho_corasick::{AhoCorasick, MatchKind};
use regex::bytes::Regex;

use crate::rules::{RULES, Rule, validate};

/// The compiled rule set; build once, share across threads (it is `Sync`).
pub struct Matcher {
    prefilter: AhoCorasick,
    /// For each prefilter pattern, the indices (into [`RULES`]) of the rules that listed it.
    keyword_rules: Vec<Vec<usize>>,
    regexes: Vec<Regex>,
}

/// One validated match inside a buffer.
pub(crate) struct Hit<'a> {
    pub rule: &'static Rule,
    pub line: usize,
    pub column: usize,
    pub secret: &'a [u8],
}

impl Matcher {
    /// Compiles every rule of [`RULES`].
    pub fn new() -> Self {
        let mut keywords: Vec<String> = Vec::new();
        let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
        for (index, rule) in RULES.iter().enumerate() {
            for kw in rule.keywords {
                let kw = kw.to_ascii_lowercase();
                match keywords.iter().position(|k| *k == kw) {
                    Some(pos) => keyword_rules[pos].push(index),
                    None => {
                        keywords.push(kw);
                        keyword_rules.push(vec![index]);
                    }
                }
            }
        }
        let prefilter = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .expect("rule keywords compile");
        let regexes = RULES
            .iter()
            .map(|r| Regex::new(r.pattern).unwrap_or_else(|e| panic!("rule {}: {e}", r.id)))
            .collect();
        Self {
            prefilter,
            keyword_rules,
            regexes,
        }
    }

    /// Every validated, non-overlapping hit in `data`, in order of position.
    pub(crate) fn scan<'a>(&self, data: &'a [u8]) -> Vec<Hit<'a>> {
        // 1. Prefilter: (rule, window start, window end) for each keyword hit, deduplicated.
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        let mut line_cache = (usize::MAX, 0);
        for m in self.prefilter.find_overlapping_iter(data) {
            let (start, end) = if line_cache.0 <= m.start() && m.start() < line_cache.1 {
                (line_cache.0, line_cache.1)
            } else {
                let s = memchr::memrchr(b'\n', &data[..m.start()]).map_or(0, |i| i + 1);
                let e =
                    memchr::memchr(b'\n', &data[m.start()..]).map_or(data.len(), |i| m.start() + i);
                line_cache = (s, e);
                (s, e)
            };
            for &rule in &self.keyword_rules[m.pattern().as_usize()] {
                let span = RULES[rule].span;
                let end = if span == 0 {
                    end
                } else {
                    data.len().min(start + span)
                };
                windows.push((rule, start, end));
            }
        }
        if windows.is_empty() {
            return Vec::new();
        }
        windows.sort_unstable();
        windows.dedup();

        // A marker in the first lines marks the whole file as test data (see FIXTURE_MARKERS).
        let head_end = memchr::memchr_iter(b'\n', data)
            .nth(FIXTURE_HEAD_LINES - 1)
            .unwrap_or(data.len());
        let fixture_file = validate::has_fixture_marker(&data[..head_end]);

        // 2. Rule regexes on their windows, then validators.
        let mut hits: Vec<(usize, usize, usize)> = Vec::new(); // (rule, start, end) of the secret
        for (rule_index, ws, we) in windows {
            let rule = &RULES[rule_index];
            for caps in self.regexes[rule_index].captures_iter(&data[ws..we]) {
                let m = caps
                    .name("secret")
                    .or_else(|| caps.get(0))
                    .expect("group 0 exists");
                let (s, e) = (ws + m.start(), ws + m.end());
                if hits.iter().any(|&(r, hs, _)| r == rule_index && hs == s) {
                    continue;
                }
                if caps
                    .name("name")
                    .is_some_and(|n| validate::is_non_secret_name(n.as_bytes()))
                {
                    continue;
                }
                if !rule.validator.verifies_format()
                    && (fixture_file || validate::has_fixture_marker(around_line(data, s)))
                {
                    continue;
                }
                let quoted = s > 0 && matches!(data[s - 1], b'"' | b'\'' | b'`');
                if rule.validator.accepts_in(&data[s..e], quoted) {
                    hits.push((rule_index, s, e));
                }
            }
        }

        // 3. Overlaps: the earlier (more specific) rule in the table wins.
        hits.sort_unstable();
        let mut kept: Vec<(usize, usize, usize)> = Vec::with_capacity(hits.len());
        for h in hits {
            if !kept.iter().any(|k| h.1 < k.2 && k.1 < h.2) {
                kept.push(h);
            }
        }
        kept.sort_unstable_by_key(|h| h.1);

        // 4. Line and column (1-based; the column counts Unicode scalar values).
        let mut out = Vec::with_capacity(kept.len());
        let (mut line, mut pos, mut line_start) = (1usize, 0usize, 0usize);
        for (rule_index, s, e) in kept {
            for i in memchr::memchr_iter(b'\n', &data[pos..s]) {
                line += 1;
                line_start = pos + i + 1;
            }
            pos = s;
            let column = 1 + data[line_start..s]
                .iter()
                .filter(|&&b| (b & 0xC0) != 0x80)
                .count();
            out.push(Hit {
                rule: &RULES[rule_index],
                line,
                column,
                secret: &data[s..e],
            });
        }
        out
    }
}

/// How many leading lines of a file may carry a file-wide fixture marker.
const FIXTURE_HEAD_LINES: usize = 5;

/// The line holding byte `at` and the line before it (where a marker comment usually sits).
fn around_line(data: &[u8], at: usize) -> &[u8] {
    let line_start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
    let start = if line_start == 0 {
        0
    } else {
        memchr::memrchr(b'\n', &data[..line_start - 1]).map_or(0, |i| i + 1)
    };
    let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
    &data[start..end]
}

impl Default for Matcher {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rule's examples produce exactly one hit of that rule; its decoys produce none.
    #[test]
    fn rule_table_examples_and_decoys() {
        let matcher = Matcher::new();
        for rule in RULES {
            assert!(!rule.examples.is_empty(), "{} has no example", rule.id);
            for example in rule.examples {
                let hits = matcher.scan(example.as_bytes());
                let ids: Vec<_> = hits.iter().map(|h| h.rule.id).collect();
                assert_eq!(ids, [rule.id], "example of {}: {example:?}", rule.id);
            }
            for decoy in rule.decoys {
                let hits = matcher.scan(decoy.as_bytes());
                assert!(
                    hits.iter().all(|h| h.rule.id != rule.id),
                    "decoy of {} matched: {decoy:?}",
                    rule.id
                );
            }
        }
    }

    #[test]
    fn lines_and_columns_are_one_based_and_count_characters() {
        let text = concat!(
            "a\nb\n  é key=AIza",
            "8YqvV75MalGBkHvgH42yjd429z8deH99vl5\n"
        );
        let hits = Matcher::new().scan(text.as_bytes());
        assert_eq!(hits.len(), 1);
        assert_eq!((hits[0].line, hits[0].column), (3, 9));
        assert!(hits[0].secret.starts_with(b"AIza"));
    }

    #[test]
    fn keyword_free_and_binary_like_input_costs_nothing() {
        assert!(
            Matcher::new()
                .scan(b"\x00\xff\xfe nothing to see\n")
                .is_empty()
        );
    }
}
