//! Names in the order people read them: `web-2` before `web-10`, and
//! `ip-10-0-1-20` before `ip-10-0-1-101`. Runs of digits compare as
//! numbers, everything else byte by byte.

use std::cmp::Ordering;

/// Compares `a` and `b` with runs of ASCII digits read as numbers. Names
/// equal as numbers (`x-01`, `x-1`) fall back to their bytes, so the order is
/// total and agrees with `==`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        if x[i].is_ascii_digit() && y[j].is_ascii_digit() {
            let (ei, ej) = (digits_end(x, i), digits_end(y, j));
            let o = numeric_cmp(&x[i..ei], &y[j..ej]);
            if o != Ordering::Equal {
                return o;
            }
            (i, j) = (ei, ej);
        } else {
            match x[i].cmp(&y[j]) {
                Ordering::Equal => (i, j) = (i + 1, j + 1),
                o => return o,
            }
        }
    }
    (x.len() - i).cmp(&(y.len() - j)).then_with(|| x.cmp(y))
}

fn digits_end(s: &[u8], from: usize) -> usize {
    s[from..]
        .iter()
        .position(|c| !c.is_ascii_digit())
        .map_or(s.len(), |n| from + n)
}

/// Two runs of digits as numbers of any length: no overflow.
fn numeric_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (trim_zeros(a), trim_zeros(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn trim_zeros(s: &[u8]) -> &[u8] {
    let zeros = s.iter().take_while(|c| **c == b'0').count();
    &s[zeros..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    #[test]
    fn numbers_in_names_sort_as_numbers() {
        assert_eq!(
            sorted(&["web-10", "web-2", "web-1", "api-3", "web"]),
            ["api-3", "web", "web-1", "web-2", "web-10"]
        );
        assert_eq!(
            sorted(&["ip-10-0-1-101", "ip-10-0-1-20", "ip-10-0-2-3", "ip-9-0-0-1"]),
            ["ip-9-0-0-1", "ip-10-0-1-20", "ip-10-0-1-101", "ip-10-0-2-3"]
        );
        assert_eq!(
            sorted(&["kafka-10", "kafka-9", "kafka-0"]),
            ["kafka-0", "kafka-9", "kafka-10"]
        );
    }

    #[test]
    fn the_order_is_total_and_agrees_with_equality() {
        assert_eq!(natural_cmp("x-01", "x-1"), "x-01".cmp("x-1"));
        assert_ne!(natural_cmp("x-01", "x-1"), Ordering::Equal);
        assert_eq!(natural_cmp("a1", "a1"), Ordering::Equal);
        assert_eq!(natural_cmp("", ""), Ordering::Equal);
        assert_eq!(natural_cmp("", "a"), Ordering::Less);
        // Longer than any integer type: still compared by value.
        let big = "n-123456789012345678901234567890";
        let bigger = "n-923456789012345678901234567890";
        assert_eq!(natural_cmp(big, bigger), Ordering::Less);
        assert_eq!(natural_cmp("n-2", big), Ordering::Less);
        // Non-ASCII bytes compare as bytes and do not panic.
        assert_eq!(natural_cmp("é-2", "é-10"), Ordering::Less);
    }

    #[test]
    fn antisymmetric_on_mixed_names() {
        let names = [
            "a", "a0", "a00", "a1", "a01", "a-1", "1a", "01a", "b", "a10b", "a9c",
        ];
        for x in names {
            for y in names {
                assert_eq!(natural_cmp(x, y), natural_cmp(y, x).reverse(), "{x} {y}");
            }
        }
    }
}
