//! The rule families of the extractor, each of which can be switched off so the benchmark
//! can measure what it is worth (`cargo bench --bench extraction -- --ablate`).
//!
//! The extractor itself always runs with every family on ([`Rules::default`]).

/// Which rule families run. Every field is on by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// `preclean`: elements removed by name (`nav`, `button`, `figcaption`; small `aside`,
    /// `header`, `footer`, `form`).
    pub tags: bool,
    /// `preclean`: small `<figure>`s that hold media (not tables, lists, code or quotes).
    pub figure: bool,
    /// `preclean`: ARIA roles of page furniture and schema.org metadata properties.
    pub roles: bool,
    /// `preclean`: boilerplate words in class and id names.
    pub class_words: bool,
    /// `postclean`: paragraphs that repeat the title or byline, author bios.
    pub title: bool,
    /// `postclean`: boilerplate phrases (pleas, captions, credits, labels, meta lines).
    pub phrases: bool,
    /// `postclean`: date/time stamp lines.
    pub datelines: bool,
    /// `postclean`: short paragraphs that are all link (teasers) and teaser headings.
    pub link_density: bool,
    /// `postclean`: the text ends at an end-of-article heading ("More stories").
    pub end_markers: bool,
    /// `postclean`: a small box that opens with a boilerplate heading and holds pleas.
    pub groups: bool,
    /// The page's schema.org `articleBody` filters or replaces the text.
    pub ld_json: bool,
    /// Prose blocks beside readability's content that it passed over are added back.
    pub expand: bool,
    /// `preclean`: class and id tokens that readability penalizes for a layout word
    /// ("widget", "hidden") are taken off elements that hold prose.
    pub prose_classes: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            tags: true,
            figure: true,
            roles: true,
            class_words: true,
            title: true,
            phrases: true,
            datelines: true,
            link_density: true,
            end_markers: true,
            groups: true,
            ld_json: true,
            expand: true,
            prose_classes: true,
        }
    }
}

impl Rules {
    /// Names of the families, as `set` takes them.
    pub const FAMILIES: &[&str] = &[
        "tags",
        "figure",
        "roles",
        "class_words",
        "title",
        "phrases",
        "datelines",
        "link_density",
        "end_markers",
        "groups",
        "ld_json",
        "expand",
        "prose_classes",
    ];

    /// Switch the family `name` on or off; `false` when there is no such family.
    pub fn set(&mut self, name: &str, on: bool) -> bool {
        let field = match name {
            "tags" => &mut self.tags,
            "figure" => &mut self.figure,
            "roles" => &mut self.roles,
            "class_words" => &mut self.class_words,
            "title" => &mut self.title,
            "phrases" => &mut self.phrases,
            "datelines" => &mut self.datelines,
            "link_density" => &mut self.link_density,
            "end_markers" => &mut self.end_markers,
            "groups" => &mut self.groups,
            "ld_json" => &mut self.ld_json,
            "expand" => &mut self.expand,
            "prose_classes" => &mut self.prose_classes,
            _ => return false,
        };
        *field = on;
        true
    }

    /// Every family on except `name`.
    pub fn without(name: &str) -> Option<Self> {
        let mut r = Self::default();
        r.set(name, false).then_some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_can_be_switched_off_alone() {
        for name in Rules::FAMILIES {
            let r = Rules::without(name).expect(name);
            assert_ne!(r, Rules::default(), "{name}");
        }
        assert!(Rules::without("nonsense").is_none());
    }
}
