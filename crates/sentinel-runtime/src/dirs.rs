//! Where Sentinel keeps its files: the platform dirs Tauri also uses for the
//! app's identifier (XDG on Linux). The desktop app and the CLI (which finds
//! the app's history by default) read them from here.

use std::path::PathBuf;

pub const IDENTIFIER: &str = "dev.sentinel.console";

pub struct Dirs {
    pub data: PathBuf,
    pub config: PathBuf,
}

impl Dirs {
    pub fn from_env() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let xdg = |var: &str, fallback: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| home.join(fallback))
        };
        Self {
            data: xdg("XDG_DATA_HOME", ".local/share").join(IDENTIFIER),
            config: xdg("XDG_CONFIG_HOME", ".config").join(IDENTIFIER),
        }
    }

    /// The history the app records.
    pub fn history(&self) -> PathBuf {
        self.data.join("history.db")
    }
}
