//! Secrets named in the config (`env:NAME` or `file:PATH`): read where they are used, not when
//! the config is loaded, so a command that never uses one (`status`, `search`, …) runs in a
//! shell that lacks it. Each keeps its config key, so a missing one is reported the way every
//! config error is: `config FILE: key `webhook[0].secret`: environment variable X is not set`.

use std::path::PathBuf;

use super::ConfigError;

/// A secret as the config names it; `resolve` reads its value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    /// The config file, shown in errors.
    path: PathBuf,
    /// The config key, e.g. `webhook[0].secret`.
    key: String,
    /// `env:NAME` or `file:PATH` as written (a reference, never the secret itself).
    reference: String,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The reference says where the secret lives, not what it is: safe to print.
        write!(f, "Secret({} = {})", self.key, self.reference)
    }
}

impl Secret {
    /// Checks the form only (`env:NAME` or `file:PATH`, never inline); reads nothing.
    pub(super) fn new(path: PathBuf, key: &str, reference: &str) -> Result<Secret, ConfigError> {
        let invalid = |message: &str| ConfigError::Invalid {
            path: path.clone(),
            key: key.to_string(),
            message: message.to_string(),
        };
        let name = reference
            .strip_prefix("env:")
            .or_else(|| reference.strip_prefix("file:"));
        match name {
            None => {
                return Err(invalid(
                    "secrets are never written inline: use \"env:NAME\" or \"file:PATH\"",
                ));
            }
            Some("") => {
                return Err(invalid(
                    "names no variable or file: use \"env:NAME\" or \"file:PATH\"",
                ));
            }
            Some(_) => {}
        }
        Ok(Secret {
            path,
            key: key.to_string(),
            reference: reference.to_string(),
        })
    }

    /// The config key this secret is set under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Reads the secret now: the environment variable, or the file (its trailing whitespace
    /// removed). A variable that is not set, a file that cannot be read, or an empty value is
    /// an error naming the key.
    pub fn resolve(&self) -> Result<String, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: self.path.clone(),
            key: self.key.clone(),
            message,
        };
        let value = super::resolve_secret(&self.reference).map_err(invalid)?;
        if value.trim().is_empty() {
            return Err(invalid(format!(
                "the secret in {} is empty",
                self.reference
            )));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(reference: &str) -> Result<Secret, ConfigError> {
        Secret::new(PathBuf::from("t.toml"), "webhook[0].secret", reference)
    }

    #[test]
    fn inline_values_are_refused_without_echoing_them() {
        for inline in ["hunter2", ""] {
            let text = secret(inline).unwrap_err().to_string();
            assert!(
                text.contains("webhook[0].secret") && text.contains("never written inline"),
                "{text}"
            );
        }
        assert!(
            !secret("hunter2")
                .unwrap_err()
                .to_string()
                .contains("hunter2")
        );
        for empty in ["env:", "file:"] {
            let text = secret(empty).unwrap_err().to_string();
            assert!(text.contains("names no variable or file"), "{text}");
        }
    }

    #[test]
    fn read_only_when_resolved_and_errors_name_the_key() {
        // Building one never reads it: an unset variable is fine until it is used.
        let unset = secret("env:TIDINGS_SECRET_TEST_NEVER_SET").unwrap();
        let text = unset.resolve().unwrap_err().to_string();
        assert_eq!(
            text,
            "config t.toml: key `webhook[0].secret`: environment variable \
             TIDINGS_SECRET_TEST_NEVER_SET is not set"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        let from_file = secret(&format!("file:{}", file.display())).unwrap();
        let text = from_file.resolve().unwrap_err().to_string();
        assert!(
            text.contains("webhook[0].secret") && text.contains("cannot read"),
            "{text}"
        );
        std::fs::write(&file, "  \n").unwrap();
        let text = from_file.resolve().unwrap_err().to_string();
        assert!(text.contains("is empty"), "{text}");
        std::fs::write(&file, "s3cret\n").unwrap();
        assert_eq!(from_file.resolve().unwrap(), "s3cret");
        assert!(!format!("{from_file:?}").contains("s3cret"));
    }
}
