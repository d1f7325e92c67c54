//! Unusual but legal file names (spaces, Unicode, non-UTF-8 bytes, newlines, long names and
//! paths), each with the label it injects.

use proptest::prelude::*;

use crate::layout::RawPath;

use super::piece::stem;

/// Unusual but legal file names, each with its label.
pub(super) fn odd_name(deep: bool) -> SBoxedStrategy<(RawPath, &'static str)> {
    let mut options: Vec<SBoxedStrategy<(RawPath, &'static str)>> = vec![
        stem()
            .prop_map(|s| (RawPath::from(format!("{s} copy (1).bin")), "space-name"))
            .sboxed(),
        stem()
            .prop_map(|s| (RawPath::from(format!("caf\u{e9}-{s}.txt")), "unicode-name"))
            .sboxed(),
        stem()
            .prop_map(|s| {
                (
                    RawPath::from(format!("cafe\u{301}-{s}.txt")),
                    "unicode-name",
                )
            })
            .sboxed(),
        stem()
            .prop_map(|s| {
                (
                    RawPath::from(format!("\u{6a21}\u{578b}-{s}.bin")),
                    "unicode-name",
                )
            })
            .sboxed(),
        (stem(), 0x80u8..=0xff)
            .prop_map(|(s, b)| {
                (
                    RawPath::new([s.as_bytes(), &[b], b".bin"].concat()),
                    "non-utf8-name",
                )
            })
            .sboxed(),
        stem()
            .prop_map(|s| {
                (
                    RawPath::from(format!("{s}\nsecond-line.txt")),
                    "newline-name",
                )
            })
            .sboxed(),
        (101usize..=255)
            .prop_map(|n| (RawPath::from("n".repeat(n - 4) + ".bin"), "long-name"))
            .sboxed(),
        (1usize..4, 60usize..250)
            .prop_map(|(k, n)| {
                let dirs: Vec<String> = (0..k).map(|i| format!("{i}{}", "d".repeat(n))).collect();
                (
                    RawPath::from(format!("{}/{}.bin", dirs.join("/"), "f".repeat(n.min(200)))),
                    "long-path",
                )
            })
            .sboxed(),
    ];
    if deep {
        options.push(
            (3700usize..3950)
                .prop_map(|total| {
                    let mut p = String::new();
                    while p.len() + 250 < total {
                        p.push_str(&"x".repeat(240));
                        p.push('/');
                    }
                    p.push_str(&"y".repeat(total - p.len()));
                    (RawPath::from(p), "deep-path")
                })
                .sboxed(),
        );
    }
    proptest::strategy::Union::new(options).sboxed()
}
