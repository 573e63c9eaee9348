//! Any batch a plugin could send: decoding returns rows of the declared
//! width or an error, never panics, and never allocates for rows that the
//! columns do not back.
#![no_main]

use godwit_host::model::{Batch, Column, ColumnValues};

/// A small reader over the fuzzer's bytes.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn len(&mut self) -> usize {
        (self.byte() % 64) as usize
    }
    fn text(&mut self) -> String {
        let n = self.len();
        (0..n).map(|_| char::from(self.byte() % 96 + 32)).collect()
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    // Mostly small row counts, sometimes absurd ones.
    let row_count = if b.byte() % 8 == 0 { b.u32() } else { u32::from(b.byte() % 40) };
    let ncols = b.byte() % 6;
    let mut columns = Vec::new();
    for _ in 0..ncols {
        let n = b.len();
        let values = match b.byte() % 8 {
            0 => ColumnValues::Boolean((0..n).map(|_| b.byte() & 1 == 1).collect()),
            1 => ColumnValues::Int((0..n).map(|_| i64::from(b.u32() as i32)).collect()),
            2 => ColumnValues::Float((0..n).map(|_| f64::from(b.u32())).collect()),
            3 => ColumnValues::Text((0..n).map(|_| b.text()).collect()),
            4 => ColumnValues::Bytes((0..n).map(|_| b.text().into_bytes()).collect()),
            5 => ColumnValues::Date((0..n).map(|_| b.u32() as i32).collect()),
            6 => ColumnValues::Uuid((0..n).map(|_| (u64::from(b.u32()), 7)).collect()),
            _ => ColumnValues::Decimal((0..n).map(|_| b.text()).collect()),
        };
        let nulls = (0..b.len() % 8).map(|_| u32::from(b.byte() % 48)).collect();
        columns.push(Column { values, nulls });
    }
    let width = columns.len();
    let batch = Batch { row_count, columns };
    if let Ok(rows) = godwit_host::value::batch_to_rows(batch) {
        assert_eq!(rows.len(), row_count as usize);
        assert!(rows.iter().all(|r| r.len() == width));
    }
});
