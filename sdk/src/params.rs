//! Plugin parameters: the project file's `params` table arrives as JSON text
//! in `configure`; [`parse`] turns it into the plugin's own typed struct and
//! [`Configured`] keeps that struct for the plugin's later calls:
//!
//! ```ignore
//! #[derive(Clone, Default, serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct Settings { #[serde(default)] prefix: String }
//!
//! static SETTINGS: Configured<Settings> = Configured::new();
//!
//! fn configure(json: String) -> Result<(), Error> {
//!     SETTINGS.set(params::parse(&json)?);
//!     Ok(())
//! }
//! fn later() -> Result<(), Error> {
//!     let s = SETTINGS.get()?; // or get_or_default() when every field has one
//!     # Ok(())
//! }
//! ```

use std::sync::Mutex;

use crate::Error;
use serde::de::DeserializeOwned;

/// A plugin's parameters as `configure` left them, for its later calls (a
/// component instance runs one call at a time, so the lock never waits).
pub struct Configured<T>(Mutex<Option<T>>);

impl<T> Configured<T> {
    /// Nothing configured yet (usable in a `static`).
    pub const fn new() -> Self {
        Self(Mutex::new(None))
    }

    /// Keeps `value`, replacing what an earlier `configure` kept.
    pub fn set(&self, value: T) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(value);
    }

    /// A copy of what `configure` kept, if it ran.
    fn kept(&self) -> Option<T>
    where
        T: Clone,
    {
        // A poisoned lock means a call panicked, which traps the instance:
        // no later call sees it, so the value is taken as it is.
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A copy of the kept parameters, or `f()` when `configure` has not run.
    pub fn get_or_else(&self, f: impl FnOnce() -> T) -> T
    where
        T: Clone,
    {
        self.kept().unwrap_or_else(f)
    }

    /// A copy of the kept parameters, or their defaults.
    pub fn get_or_default(&self) -> T
    where
        T: Clone + Default,
    {
        self.get_or_else(T::default)
    }

    /// A copy of the kept parameters; `internal` when `configure` has not
    /// run (the host always calls it first, so this is a host bug).
    pub fn get(&self) -> Result<T, Error>
    where
        T: Clone,
    {
        self.kept()
            .ok_or_else(|| Error::Internal("configure was not called".into()))
    }
}

impl<T> Default for Configured<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Parses `configure`'s JSON into `T`; unknown or malformed fields become
/// `Error::InvalidInput` naming the problem (use `#[serde(deny_unknown_fields)]`).
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    let text = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(text).map_err(|e| Error::InvalidInput(format!("bad params: {e}")))
}

/// For plugins without parameters: accepts only an empty object, so a typo'd
/// parameter in the project file is reported instead of ignored.
pub fn none(json: &str) -> Result<(), Error> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct NoParams {}
    parse::<NoParams>(json).map(|_| ())
}

/// Checks a validator's `columns` parameter: not empty, each
/// `"table.column"`. Returns the error `configure` should return.
pub fn table_columns(columns: &[String]) -> Result<(), Error> {
    if columns.is_empty() {
        return Err(Error::InvalidInput("`columns` must not be empty".into()));
    }
    match columns.iter().find(|c| !c.contains('.')) {
        Some(c) => Err(Error::InvalidInput(format!(
            "{c:?}: expected \"table.column\""
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Default, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Settings {
        #[serde(default)]
        prefix: String,
    }

    #[test]
    fn configured_keeps_what_configure_parsed() {
        static KEPT: Configured<Settings> = Configured::new();
        assert!(matches!(KEPT.get(), Err(Error::Internal(_))));
        assert_eq!(KEPT.get_or_default(), Settings::default());
        KEPT.set(parse(r#"{"prefix": "out/"}"#).unwrap());
        assert_eq!(KEPT.get().unwrap().prefix, "out/");
        // A second configure replaces the first.
        KEPT.set(parse("").unwrap());
        assert_eq!(KEPT.get().unwrap(), Settings::default());
        // A typo'd parameter is named, not ignored.
        match parse::<Settings>(r#"{"prefx": "x"}"#) {
            Err(Error::InvalidInput(m)) => assert!(m.contains("prefx"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
