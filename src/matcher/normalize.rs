//! Text normalization and tokenization, shared by query parsing, matching and search.
//!
//! Pipeline for every text (document field or query word):
//!
//! 1. Unicode NFKC (full-width forms, ligatures, compatibility characters).
//! 2. Per character: lowercase (Unicode case mapping, plus `ß`→`ss`, `ł`→`l`, `đ`→`d`,
//!    `ø`→`o`, `æ`→`ae`, `œ`→`oe`, `ı`→`i`), then canonical decomposition with all
//!    combining marks removed, so `Północna` → `polnocna`, `Triều Tiên` → `trieu tien`,
//!    `ё` → `е`, `й` → `и`. Hangul syllables and jamo are left untouched (their canonical
//!    decomposition would turn a syllable into jamo that no longer match the query).
//! 3. Tokens are maximal runs of alphanumeric characters of one script class. Every CJK
//!    ideograph (e.g. the Korean headline abbreviations `北`, `中`) is a token of its own,
//!    and a change between Hangul and another script ends a token (`北최선희` → `北`, `최선희`;
//!    `SCO정상회의` → `sco`, `정상회의`).
//! 4. Apostrophes: a possessive `'s` at the end of a word is dropped (`Russia's` → `russia`);
//!    other inner apostrophes are removed (`O'Neill` → `oneill`).
//! 5. Hyphens between two words split the words **and** additionally index the joined form
//!    (`Jong-un` → `jong`, `un`, plus `jongun` spanning both), so `Kim Jong-un`, `Kim Jong Un`
//!    and `Kim Jongun` all meet. Dashes (`–`, `—`) only separate.
//! 6. Positions: consecutive tokens get consecutive positions; a sentence end (`.`, `!`, `?`,
//!    `;`, `|`, `…` followed by a space, after a token of two or more characters and not
//!    before a lower-case word, so `U.S.`, `N. Korea` and `Korea Płn. to` do not end a
//!    sentence; an ellipsis `…` always ends a clause, as in Korean headlines) or a single
//!    line break
//!    adds [`SENTENCE_GAP`] positions, a blank line (paragraph break) adds [`PARAGRAPH_GAP`].
//!    Phrases never match across a gap; `NEAR/n` measures distance in positions.

use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Extra positions inserted at a sentence boundary (so `NEAR/5` never crosses a sentence).
pub const SENTENCE_GAP: u32 = 25;
/// Extra positions inserted at a paragraph boundary (no sensible `NEAR/n` crosses it).
pub const PARAGRAPH_GAP: u32 = 1000;

/// One token of a tokenized text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Byte range of the normalized token text inside [`Tokens::norm`].
    pub norm: (u32, u32),
    /// Word position (with sentence/paragraph gaps), used for phrases and proximity.
    pub pos: u32,
    /// Byte range of the token inside [`Tokens::display`] (for snippets).
    pub src: (u32, u32),
}

/// The joined form of a hyphenated compound (`jong-un` → `jongun`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    /// Byte range of the joined text inside [`Tokens::norm`].
    pub norm: (u32, u32),
    /// Index of the first token of the compound.
    pub first: u32,
    /// Number of tokens the compound spans.
    pub len: u32,
}

/// A tokenized text: the NFKC display text, a buffer with all normalized token texts,
/// the tokens in order and the joined forms of hyphenated compounds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub display: String,
    pub norm: String,
    pub tokens: Vec<Token>,
    pub joined: Vec<Joined>,
}

impl Tokens {
    /// Normalized text of token `i`.
    pub fn text(&self, i: usize) -> &str {
        let (s, e) = self.tokens[i].norm;
        &self.norm[s as usize..e as usize]
    }

    /// Normalized text of joined compound `i`.
    pub fn joined_text(&self, i: usize) -> &str {
        let (s, e) = self.joined[i].norm;
        &self.norm[s as usize..e as usize]
    }
}

/// Normalizes `text` to its space-separated normalized tokens (split form of hyphenated
/// words): `"Kim Jong-un's visit to Россия"` → `"kim jong un visit to россия"`.
pub fn normalize(text: &str) -> String {
    let t = tokenize(text);
    let mut out = String::with_capacity(t.norm.len() + t.tokens.len());
    for i in 0..t.tokens.len() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(t.text(i));
    }
    out
}

/// The normalized tokens of a query word or phrase, in order.
pub fn normalize_words(text: &str) -> Vec<String> {
    let t = tokenize(text);
    (0..t.tokens.len()).map(|i| t.text(i).to_string()).collect()
}

/// True for Hangul syllables and jamo.
pub fn is_hangul(c: char) -> bool {
    matches!(c as u32,
        0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF)
}

/// True for CJK ideographs (each one is a token of its own).
pub fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// True if a query word should match as a token prefix without an explicit `*`: Hangul
/// words of two or more syllables, because Korean attaches particles and suffixes to nouns
/// (`북한이`, `북한과`, `러시아의`, `북한제`) and writes compounds without spaces
/// (`북러관계`). One-syllable Hangul words (headline abbreviations such as `러`, `북`) match
/// exactly unless written with `*`.
pub fn is_prefix_script(word: &str) -> bool {
    word.chars().last().is_some_and(is_hangul) && word.chars().nth(1).is_some()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Han,
    Hangul,
    Other,
}

fn class(c: char) -> Class {
    if is_hangul(c) {
        Class::Hangul
    } else if is_han(c) {
        Class::Han
    } else {
        Class::Other
    }
}

/// Case-folds one (NFKC) character and strips its diacritics, pushing the result.
fn fold_char(c: char, out: &mut Vec<char>) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_hangul(c) {
        out.push(c);
        return;
    }
    for lc in c.to_lowercase() {
        decompose_canonical(lc, |d| {
            if is_combining_mark(d) {
                return;
            }
            match d {
                'ß' => out.extend(['s', 's']),
                'ł' => out.push('l'),
                'đ' => out.push('d'),
                'ø' => out.push('o'),
                'æ' => out.extend(['a', 'e']),
                'œ' => out.extend(['o', 'e']),
                'ı' => out.push('i'),
                'ħ' => out.push('h'),
                'þ' => out.extend(['t', 'h']),
                _ => out.push(d),
            }
        });
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`')
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '\u{2010}' | '\u{2011}')
}

fn is_sentence_end(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | ';' | '|' | '。')
}

/// True if the next word character starts a lower-case word (`Korea Płn. to ...`: an
/// abbreviation, not a sentence end).
fn next_word_is_lowercase(display: &str, rest: &[(char, u32, u32)]) -> bool {
    rest.iter()
        .find(|c| !c.0.is_whitespace())
        .and_then(|c| display[c.1 as usize..].chars().next())
        .is_some_and(char::is_lowercase)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

/// Tokenizes `text` (see the module documentation for the rules).
pub fn tokenize(text: &str) -> Tokens {
    let display: String = if text.is_ascii() || is_nfkc_quick(text.chars()) == IsNormalized::Yes {
        text.to_string()
    } else {
        text.nfkc().collect()
    };
    // Folded characters, each with the byte range of its source character in `display`.
    let mut chars: Vec<(char, u32, u32)> = Vec::with_capacity(display.len());
    let mut buf = Vec::with_capacity(4);
    for (i, c) in display.char_indices() {
        let end = (i + c.len_utf8()) as u32;
        buf.clear();
        fold_char(c, &mut buf);
        for &f in &buf {
            chars.push((f, i as u32, end));
        }
    }

    let mut out = Tokens {
        display: String::new(),
        norm: String::with_capacity(display.len()),
        tokens: Vec::with_capacity(display.len() / 5),
        joined: Vec::new(),
    };
    let mut next_pos: u32 = 0;
    let mut gap: u32 = 0;
    // Start token index of the hyphenated compound being read, if the last token ended in
    // a hyphen link.
    let mut compound: Option<usize> = None;
    let mut i = 0;
    let n = chars.len();
    while i < n {
        let c = chars[i].0;
        if !is_word(c) {
            if c == '\n' {
                let mut j = i + 1;
                let mut newlines = 1;
                while j < n && chars[j].0.is_whitespace() {
                    if chars[j].0 == '\n' {
                        newlines += 1;
                    }
                    j += 1;
                }
                gap = gap.max(if newlines >= 2 {
                    PARAGRAPH_GAP
                } else {
                    SENTENCE_GAP
                });
                i = j;
                continue;
            }
            // An ellipsis (NFKC turns `…` into `...`) separates clauses even without a
            // space (Korean headlines: "北 미사일 발사…러 반응").
            let ellipsis = c == '.' && i + 1 < n && chars[i + 1].0 == '.';
            let ends = ellipsis
                || (is_sentence_end(c)
                    && (i + 1 == n || chars[i + 1].0.is_whitespace())
                    && !next_word_is_lowercase(&display, &chars[i + 1..])
                    && out.tokens.last().is_some_and(|t| {
                        out.norm[t.norm.0 as usize..t.norm.1 as usize]
                            .chars()
                            .nth(1)
                            .is_some()
                    }));
            if ends {
                gap = gap.max(SENTENCE_GAP);
            }
            i += 1;
            continue;
        }
        // Read one token.
        let cls = class(c);
        let norm_start = out.norm.len();
        let src_start = chars[i].1;
        let mut src_end = chars[i].2;
        out.norm.push(c);
        i += 1;
        if cls != Class::Han {
            while i < n {
                let d = chars[i].0;
                if is_word(d) && class(d) == cls {
                    out.norm.push(d);
                    src_end = chars[i].2;
                    i += 1;
                } else if is_apostrophe(d)
                    && cls == Class::Other
                    && i + 1 < n
                    && is_word(chars[i + 1].0)
                    && class(chars[i + 1].0) == Class::Other
                {
                    let possessive =
                        chars[i + 1].0 == 's' && (i + 2 == n || !is_word(chars[i + 2].0));
                    if possessive {
                        src_end = chars[i + 1].2;
                        i += 2;
                        break;
                    }
                    i += 1; // inner apostrophe: join
                } else {
                    break;
                }
            }
        }
        // Conjoining jamo left apart by a stripped mark between them: compose them again
        // so that normalizing twice gives the same syllables.
        if cls == Class::Hangul
            && out.norm[norm_start..]
                .chars()
                .any(|c| matches!(c as u32, 0x1100..=0x11FF | 0xA960..=0xA97F | 0xD7B0..=0xD7FF))
        {
            let composed: String = out.norm[norm_start..].nfc().collect();
            out.norm.truncate(norm_start);
            out.norm.push_str(&composed);
        }
        if gap > 0 {
            compound = None;
        }
        let pos = next_pos + if out.tokens.is_empty() { 0 } else { gap };
        gap = 0;
        next_pos = pos + 1;
        let idx = out.tokens.len();
        out.tokens.push(Token {
            norm: (norm_start as u32, out.norm.len() as u32),
            pos,
            src: (src_start, src_end),
        });
        // Hyphen link to a following word?
        let linked = cls != Class::Han
            && i + 1 < n
            && is_hyphen(chars[i].0)
            && is_word(chars[i + 1].0)
            && class(chars[i + 1].0) != Class::Han;
        if linked {
            compound.get_or_insert(idx);
        } else if let Some(first) = compound.take() {
            let start = out.norm.len();
            for t in first..=idx {
                let (s, e) = out.tokens[t].norm;
                let piece = out.norm[s as usize..e as usize].to_string();
                out.norm.push_str(&piece);
            }
            out.joined.push(Joined {
                norm: (start as u32, out.norm.len() as u32),
                first: first as u32,
                len: (idx - first + 1) as u32,
            });
        }
    }
    out.display = display;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_diacritics_and_scripts() {
        assert_eq!(normalize("Korea Północna"), "korea polnocna");
        assert_eq!(normalize("Triều Tiên và Nga"), "trieu tien va nga");
        assert_eq!(normalize("Пхеньян, Ёлка, Йошкар"), "пхеньян елка иошкар");
        assert_eq!(normalize("Straße ÆON"), "strasse aeon");
        assert_eq!(normalize("ＫＮＤＲ ｆｕｌｌ"), "kndr full");
        assert_eq!(normalize("Ǆ ﬁle"), "dz file");
    }

    #[test]
    fn hangul_survives_nfkc_and_folding() {
        assert_eq!(normalize("북한이 러시아에"), "북한이 러시아에");
        // Decomposed jamo are composed by NFKC.
        let decomposed: String = "북한".nfd().collect();
        assert_eq!(normalize(&decomposed), "북한");
        // Han ideographs are single tokens; script changes split tokens.
        assert_eq!(normalize("北최선희 SCO정상회의"), "北 최선희 sco 정상회의");
        assert_eq!(normalize("북러·북중"), "북러 북중");
    }

    #[test]
    fn possessives_apostrophes_hyphens() {
        assert_eq!(
            normalize("Russia's war, Moscow’s ally"),
            "russia war moscow ally"
        );
        assert_eq!(normalize("O'Neill don't"), "oneill dont");
        let t = tokenize("Kim Jong-un met");
        assert_eq!(normalize("Kim Jong-un met"), "kim jong un met");
        assert_eq!(t.joined.len(), 1);
        assert_eq!(t.joined_text(0), "jongun");
        assert_eq!((t.joined[0].first, t.joined[0].len), (1, 2));
        // Dashes only separate.
        let t = tokenize("North Korea–Russia ties");
        assert!(t.joined.is_empty());
        assert_eq!(normalize("North Korea–Russia"), "north korea russia");
    }

    #[test]
    fn positions_and_gaps() {
        let t = tokenize("One two. Three\nfour\n\nfive U.S. six N. Korea");
        let abbrev = tokenize("Korea Płn. to sojusznicy. Rosja");
        let pos: Vec<u32> = abbrev.tokens.iter().map(|t| t.pos).collect();
        assert_eq!(pos, vec![0, 1, 2, 3, 4 + SENTENCE_GAP]);
        let korean = tokenize("北 발사…러 반응");
        let pos: Vec<u32> = korean.tokens.iter().map(|t| t.pos).collect();
        assert_eq!(pos, vec![0, 1, 2 + SENTENCE_GAP, 3 + SENTENCE_GAP]);
        let pos: Vec<u32> = t.tokens.iter().map(|t| t.pos).collect();
        let g = SENTENCE_GAP;
        let p = PARAGRAPH_GAP;
        // one two | three | four || five u s six n korea
        assert_eq!(
            pos,
            vec![
                0,
                1,
                2 + g,
                3 + 2 * g,
                4 + 2 * g + p,
                5 + 2 * g + p,
                6 + 2 * g + p,
                7 + 2 * g + p,
                8 + 2 * g + p,
                9 + 2 * g + p
            ]
        );
    }

    #[test]
    fn display_ranges_point_into_source() {
        let t = tokenize("Nga – Triều Tiên");
        let (s, e) = t.tokens[1].src;
        assert_eq!(&t.display[s as usize..e as usize], "Triều");
    }

    #[test]
    fn helpers() {
        assert!(is_prefix_script("북한"));
        assert!(!is_prefix_script("러"));
        assert!(!is_prefix_script("russia"));
        assert_eq!(normalize_words("Jong-un"), vec!["jong", "un"]);
        assert_eq!(normalize(""), "");
    }
}
