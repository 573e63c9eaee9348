//! Load order: parents before children along foreign keys.

use crate::model::TableDef;

/// Orders tables so every table comes after the tables it references.
/// Self-references are ignored (loads defer foreign-key checks to commit).
/// Returns the order and, for each cycle that had to be broken, the table
/// that was loaded before one of its parents.
pub fn load_order(tables: &[TableDef]) -> (Vec<usize>, Vec<String>) {
    let n = tables.len();
    let index = |name: &str| tables.iter().position(|t| t.name == name);
    let deps: Vec<Vec<usize>> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut d: Vec<usize> = t
                .foreign_keys
                .iter()
                .filter_map(|f| index(&f.ref_table))
                .filter(|&j| j != i)
                .collect();
            d.sort_unstable();
            d.dedup();
            d
        })
        .collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut broken = Vec::new();
    while order.len() < n {
        // Take the first (in source order) table whose parents are all placed.
        let next = (0..n).find(|&i| !placed[i] && deps[i].iter().all(|&d| placed[d]));
        let pick = match next {
            Some(i) => i,
            None => {
                // A cycle: load the first remaining table anyway and say so.
                let i = (0..n).find(|&i| !placed[i]).expect("tables remain");
                broken.push(tables[i].name.clone());
                i
            }
        };
        placed[pick] = true;
        order.push(pick);
    }
    (order, broken)
}
