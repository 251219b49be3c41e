//! The app's own memory: resident set of this process and its descendants
//! (the webview runs in child processes). Linux reads /proc; elsewhere `None`.

/// Resident bytes of `pid` and every process below it.
pub fn tree_rss_bytes(pid: u32) -> Option<u64> {
    let mut total = 0u64;
    let mut stack = vec![pid];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > 512 {
            break;
        }
        total += rss_bytes(p)?;
        stack.extend(children(p));
    }
    Some(total)
}

fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #[test]
    fn own_rss_is_plausible() {
        let rss = super::tree_rss_bytes(std::process::id()).unwrap();
        assert!(rss > 1 << 20 && rss < 8 << 30, "{rss}");
    }
}
