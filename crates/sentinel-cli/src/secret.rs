//! `sentinel secret`: set, test and delete a credential in the OS keyring.
//! There is no command that prints one.

use std::io::Read;

use clap::Subcommand;
use sentinel_secrets::{SERVICE, Secret, Vault};

#[derive(Subcommand)]
pub enum SecretCommand {
    /// Store (or replace) a credential; the value is read from standard input.
    Set { name: String },
    /// Say whether a credential is stored (never what it is).
    Test { name: String },
    /// Delete a credential.
    Delete { name: String },
}

pub fn run(cmd: SecretCommand) -> anyhow::Result<()> {
    let vault = Vault::os(SERVICE);
    match cmd {
        SecretCommand::Set { name } => {
            let mut value = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut value)?;
            // A trailing newline from `echo` is not part of a token.
            let value = value.trim_end_matches(['\n', '\r']);
            vault.set(&name, &Secret::new(value))?;
            println!("stored {name} in the keyring");
        }
        SecretCommand::Test { name } => {
            if vault.exists(&name)? {
                println!("{name} is stored in the keyring");
            } else {
                anyhow::bail!("{name} is not in the keyring");
            }
        }
        SecretCommand::Delete { name } => {
            if vault.delete(&name)? {
                println!("deleted {name}");
            } else {
                println!("{name} was not stored");
            }
        }
    }
    Ok(())
}
