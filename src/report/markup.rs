//! [`Html`]: text that is safe to put in the page, and the [`html!`](crate::html)
//! macro, the only way to write markup with values in it. The format string is
//! a literal (markup the code wrote) and every value interpolated into it goes
//! through [`Interpolate`]: text is escaped, numbers are written as they are,
//! and only an [`Html`] (itself made by the macro or by [`Html::text`]) goes in
//! unescaped. Forgetting to escape is not possible: there is no call to forget.
//! A value named inside the format string (`{name}`, which Rust would take from
//! the scope unescaped) is refused when the crate compiles ([`check`]).
//!
//! Chosen over a template crate (maud, which compiles here with rustc 1.95 and
//! adds 3 crates and about a second to a clean build) because the page is
//! mostly SVG with computed attributes, where `{:.1}` formats read better than
//! a template's expressions, and because it needs no dependency; the guarantee
//! is the same: a string reaches the page escaped or not at all.

use std::fmt;

/// Markup: escaped text, or markup the code wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Html(String);

impl Html {
    /// Text, escaped for element content and quoted attributes.
    pub fn text(text: &str) -> Html {
        let mut o = String::with_capacity(text.len());
        escape_into(&mut o, text);
        Html(o)
    }

    /// Markup written by [`html!`](crate::html) (its format string is a literal
    /// and its values were escaped); not for other use.
    #[doc(hidden)]
    pub fn trusted(markup: String) -> Html {
        Html(markup)
    }

    pub fn push(&mut self, more: Html) {
        self.0.push_str(&more.0);
    }

    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The parts with `sep` between them.
    pub fn join(parts: impl IntoIterator<Item = Html>, sep: &str) -> Html {
        let parts: Vec<String> = parts.into_iter().map(|h| h.0).collect();
        Html(parts.join(&Html::text(sep).0))
    }
}

impl Extend<Html> for Html {
    fn extend<I: IntoIterator<Item = Html>>(&mut self, iter: I) {
        for h in iter {
            self.0.push_str(&h.0);
        }
    }
}

impl FromIterator<Html> for Html {
    fn from_iter<I: IntoIterator<Item = Html>>(iter: I) -> Html {
        Html(iter.into_iter().map(|h| h.0).collect())
    }
}

fn escape_into(o: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
}

/// A value [`html!`](crate::html) may put in the page, and how.
pub trait Interpolate {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl Interpolate for Html {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Interpolate for str {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut o = String::with_capacity(self.len());
        escape_into(&mut o, self);
        f.write_str(&o)
    }
}

impl Interpolate for String {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_str().write(f)
    }
}

impl<T: Interpolate + ?Sized> Interpolate for &T {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).write(f)
    }
}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl Interpolate for $t {
            fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    )*};
}
numbers!(f64, u32, u64, usize, i64);

/// A value on its way into [`html!`](crate::html)'s format string.
#[doc(hidden)]
#[derive(Debug)]
pub struct Arg<'a, T: ?Sized>(pub &'a T);

impl<T: Interpolate + ?Sized> fmt::Display for Arg<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write(f)
    }
}

/// Refuses, at compile time, a format string that names a value (`{name}`,
/// which would reach the page unescaped): only `{}`, `{:…}` and `{0}` may stand
/// for the values given.
#[doc(hidden)]
pub const fn check(format: &str) {
    let b = format.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if i + 1 < b.len() && b[i + 1] == b'{' {
                i += 2;
                continue;
            }
            if i + 1 < b.len() && (b[i + 1].is_ascii_alphabetic() || b[i + 1] == b'_') {
                panic!("html!: name no value inside the format string; pass it as an argument, so it is escaped");
            }
        }
        i += 1;
    }
}

/// Markup from a literal format string and values, each value escaped unless it
/// is [`Html`] already: `html!("<td>{}</td>", name)`.
#[macro_export]
#[doc(hidden)]
macro_rules! html {
    ($format:literal $(, $arg:expr)* $(,)?) => {{
        const _: () = $crate::report::markup::check($format);
        $crate::report::markup::Html::trusted(
            format!($format $(, $crate::report::markup::Arg(&$arg))*)
        )
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_markup_is_not() {
        assert_eq!(Html::text(r#"<a href="x">&'</a>"#).as_str(), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(Html::text("plain µs").as_str(), "plain µs");
        let name = "<script>alert(1)</script>".to_string();
        let cell = html!("<td title=\"{}\">{}</td>", name, name);
        assert_eq!(
            cell.as_str(),
            "<td title=\"&lt;script&gt;alert(1)&lt;/script&gt;\">&lt;script&gt;alert(1)&lt;/script&gt;</td>"
        );
        let inner = html!("<b>{}</b>", "&");
        assert_eq!(html!("<p>{}{:.1}</p>", inner, 2.25f64).as_str(), "<p><b>&amp;</b>2.2</p>");
        assert_eq!(html!("{{}}").as_str(), "{}");
    }

    #[test]
    fn a_value_named_in_the_format_string_is_refused() {
        assert!(std::panic::catch_unwind(|| check("<td>{name}</td>")).is_err());
        check("<td>{}</td>{:.1}{0}{{name}}");
    }
}
