//! What `jsonl-source` reads from a store is not trusted: any line, for
//! any schema, decodes to a row or an error, never a panic; any schema
//! text parses or is refused; and a decoded row, written again, reads back
//! as the same row (the codec is exact both ways).
#![no_main]

use godwit_sdk::jsonl::{decode_row, encode_row, parse_schema};
use godwit_sdk::{ColumnDef, LogicalType};

const TYPES: &[&str] = &[
    "boolean", "int(64)", "uint(64)", "float(64)", "decimal(10,2)", "text", "bytes", "json",
    "timestamp", "timestamptz", "date", "time", "uuid", "vector(3)", "any",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let _ = parse_schema(&text);
    // Two columns whose types the first byte picks.
    let columns: Vec<ColumnDef> = [pick % 15, (pick / 15) % 15]
        .iter()
        .zip(["a", "b"])
        .map(|(t, name)| ColumnDef {
            name: name.into(),
            logical: godwit_sdk::jsonl::parse_type(TYPES[*t as usize]).unwrap_or(LogicalType::Any),
            native_type: String::new(),
            nullable: true,
            default: None,
            auto_increment: false,
            comment: None,
        })
        .collect();
    if let Ok(row) = decode_row(&text, &columns) {
        let mut line = Vec::new();
        encode_row(&mut line, &columns, &row).expect("a decoded row encodes");
        let again = decode_row(std::str::from_utf8(&line).unwrap().trim_end(), &columns)
            .expect("an encoded row decodes");
        // Debug text compares floats' NaN payloads loosely; bits are
        // compared for them.
        assert_eq!(format!("{row:?}"), format!("{again:?}"));
    }
});
