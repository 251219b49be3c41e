//! `tracing` into a daily-rotated log in
//! the data dir (seven files kept). If the data dir is not writable, logs go
//! to stderr and the status bar says so.

use sentinel_model::Severity;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

pub use sentinel_runtime::dirs::Dirs;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tao=warn,wry=warn,tauri=warn"))
}

/// Installs the global subscriber. Returns the writer guard (keep it alive)
/// and a notice when logs could not go to a file.
pub fn init(dirs: &Dirs) -> (Option<WorkerGuard>, Option<(Severity, String)>) {
    let dir = dirs.data.join("logs");
    let appender = std::fs::create_dir_all(&dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("sentinel")
                .filename_suffix("log")
                .max_log_files(7)
                .build(&dir)
                .map_err(|e| e.to_string())
        });
    match appender {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_ansi(false)
                .with_writer(writer)
                .try_init();
            (Some(guard), None)
        }
        Err(e) => {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_writer(std::io::stderr)
                .try_init();
            let msg = format!(
                "Cannot write logs to {}: {e}. Logging to stderr only.",
                dir.display()
            );
            tracing::warn!("{msg}");
            (None, Some((Severity::Warning, msg)))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    #[test]
    fn unwritable_data_dir_falls_back_to_stderr_and_says_so() {
        let dirs = Dirs {
            data: PathBuf::from("/proc/sentinel-cannot-write-here"),
            config: std::env::temp_dir(),
        };
        let (guard, notice) = init(&dirs);
        assert!(guard.is_none());
        let (level, msg) = notice.expect("a notice for the status bar");
        assert_eq!(level, Severity::Warning);
        assert!(
            msg.contains("Cannot write logs to /proc/sentinel-cannot-write-here/logs"),
            "{msg}"
        );
    }
}
