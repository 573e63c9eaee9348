//! What `csv-source` reads from a store is not trusted: any bytes, for any
//! pair of column types, split into records and decode to rows or errors,
//! never a panic; and a decoded row, written again, reads back as the same
//! row and the same bytes (the codec is exact both ways).
#![no_main]

use godwit_sdk::csv::{Decoder, Encoder, Scan};
use godwit_sdk::{ColumnDef, LogicalType};

const TYPES: &[&str] = &[
    "boolean", "int(64)", "uint(64)", "float(64)", "decimal(10,2)", "text", "bytes", "json",
    "timestamp", "timestamptz", "date", "time", "uuid", "vector(3)", "any",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
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
    let decoder = Decoder::new(&columns, &[]).expect("no cell kinds");
    // Records as a reader fed the bytes in pieces of 7 finds them.
    let mut scan = Scan::default();
    let mut pending: Vec<u8> = Vec::new();
    for piece in rest.chunks(7) {
        pending.extend_from_slice(piece);
        while let Some(end) = scan.record_end(&pending) {
            let record: Vec<u8> = pending.drain(..=end).take(end).collect();
            scan.reset();
            if let Ok(row) = decoder.decode_row(&record) {
                let mut out = Vec::new();
                let mut encoder = Encoder::new(&columns);
                encoder.encode_row(&mut out, &row).expect("a decoded row encodes");
                let again = decoder
                    .decode_row(&out[..out.len() - 1])
                    .expect("an encoded row decodes");
                assert_eq!(format!("{row:?}"), format!("{again:?}"));
            }
        }
    }
});
