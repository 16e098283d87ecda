//! QR codes (qrcode crate): SVG for pages (no external assets) and Unicode blocks for
//! the terminal.

use qrcode::QrCode;
use qrcode::render::{svg, unicode};

/// An inline SVG QR code of `text`; `None` if it is too long to encode.
#[must_use]
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build(),
    )
}

/// A QR code of `text` drawn with Unicode half blocks, for a terminal.
#[must_use]
pub fn terminal(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_svg_and_terminal_codes() {
        let s = super::svg("otpauth://totp/x?secret=ABC").unwrap();
        assert!(s.contains("<svg") && s.contains("</svg>"));
        let t = super::terminal("https://id.example/x/login?username=a%40b").unwrap();
        assert!(t.lines().count() > 10);
        assert!(super::svg(&"x".repeat(10_000)).is_none());
    }
}
