//! The product catalogue: which products exist, the number their keys carry, and which applets a
//! licence of each unlocks. The data lives in `licenses/*.toml` and is compiled in with
//! `include_str!`, so a new product is a new data file plus one line in `SOURCES`.

use std::sync::OnceLock;

use serde::Deserialize;

/// The embedded catalogue files: (file name, content).
const SOURCES: &[(&str, &str)] = &[("FSMON20.toml", include_str!("../../licenses/FSMON20.toml"))];

/// One licensable product.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Product {
    /// Product ID (`-p FSMON20`).
    pub code: String,
    /// Human-readable name.
    pub name: String,
    /// Product number carried in the key.
    pub number: u16,
    /// Key format version of this product's keys.
    pub key_version: u8,
    /// Applets a licence of this product unlocks.
    pub applets: Vec<String>,
}

impl Product {
    /// True when a licence of this product lets `applet` run.
    pub(crate) fn unlocks(&self, applet: &str) -> bool {
        self.applets.iter().any(|a| a == applet)
    }
}

/// A catalogue source that is refused: which one, and why.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {why}")]
pub struct CatalogError {
    /// The source's name.
    pub source_name: String,
    /// What is wrong with it.
    pub why: String,
}

/// Parses and checks catalogue sources (unique codes and numbers, versions in 1..=15).
pub fn parse(sources: &[(&str, &str)]) -> Result<Vec<Product>, CatalogError> {
    let mut out: Vec<Product> = Vec::new();
    for (name, text) in sources {
        let bad = |why: String| CatalogError {
            source_name: (*name).to_owned(),
            why,
        };
        let p: Product = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !(1..=15).contains(&p.key_version) {
            return Err(bad("key_version must be 1..=15".into()));
        }
        if p.code.is_empty() || !p.code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(bad("code must be ASCII letters and digits".into()));
        }
        if out.iter().any(|q| q.code == p.code || q.number == p.number) {
            return Err(bad("duplicate product code or number".into()));
        }
        out.push(p);
    }
    Ok(out)
}

/// The compiled-in catalogue.
pub fn catalogue() -> &'static [Product] {
    static CAT: OnceLock<Vec<Product>> = OnceLock::new();
    CAT.get_or_init(|| parse(SOURCES).expect("embedded licence catalogue is valid (unit-tested)"))
}

/// The product with ID `code` (exact, case-sensitive).
pub fn product(code: &str) -> Option<&'static Product> {
    catalogue().iter().find(|p| p.code == code)
}

/// The product with key number `number`.
pub fn by_number(number: u16) -> Option<&'static Product> {
    catalogue().iter().find(|p| p.number == number)
}

/// Every product ID, comma-separated (for messages).
pub(crate) fn codes() -> String {
    catalogue()
        .iter()
        .map(|p| p.code.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_parses() {
        let p = product("FSMON20").expect("FSMON20 in the catalogue");
        assert!(p.unlocks("clp_sambamon"));
        assert!(p.unlocks("clp_nfsmon"));
        assert!(!p.unlocks("clplcnsc"));
        assert_eq!(by_number(p.number), Some(p));
        assert!(
            product("fsmon20").is_none(),
            "product IDs are case-sensitive"
        );
    }

    #[test]
    fn duplicates_and_bad_versions_are_rejected() {
        let a = "code='A'\nname='a'\nnumber=1\nkey_version=1\napplets=[]";
        let b = "code='B'\nname='b'\nnumber=1\nkey_version=1\napplets=[]";
        assert!(parse(&[("a", a), ("b", b)]).is_err());
        let v = "code='C'\nname='c'\nnumber=2\nkey_version=16\napplets=[]";
        assert!(parse(&[("c", v)]).is_err());
        assert_eq!(parse(&[("a", a)]).unwrap().len(), 1);
    }
}
