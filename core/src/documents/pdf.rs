//! Documents as PDF, made on the phone with no network: A4 pages in the layout of the 式样 (the
//! issuing authority and the title centred, the number under them, then each field), with text
//! that can be selected and searched.
//!
//! The text is set in `STSong-Light` through the `UniGB-UCS2-H` CMap: one of the standard
//! Adobe-GB1 CJK fonts that PDF viewers supply themselves (Acrobat, PDFium in Chrome and Android,
//! pdf.js, WPS), so nothing is embedded or downloaded and a document is a few kilobytes — what a
//! WeChat share over a weak link needs. A Song face, as the 式样 sets numbers and titles; the body
//! uses the same face (no 仿宋 is standard in viewers). Content streams are not compressed.

use std::fmt::Write as _;

use super::FilledDocument;

/// A4 in points.
const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
/// Margins of the 式样 (top 3.7 cm as 公文, 2.8 cm sides; a little less at the foot).
const TOP: f32 = 105.0;
const SIDE: f32 = 79.0;
const BOTTOM: f32 = 72.0;

/// 二号 (22 pt) title, 小二 (18 pt) authority, 四号 (14 pt) number, 小四 (12 pt) body.
const TITLE_PT: f32 = 22.0;
const AUTHORITY_PT: f32 = 18.0;
const NUMBER_PT: f32 = 14.0;
const BODY_PT: f32 = 12.0;
const LEADING: f32 = 1.6;

/// One document to print: the authority above the title, then its filled fields.
pub struct PdfSheet<'a> {
    pub authority: &'a str,
    pub document: &'a FilledDocument,
}

/// The advance of `c` in ems: CJK and full-width forms are square, Latin about half.
fn advance(c: char) -> f32 {
    if c.is_ascii() { 0.5 } else { 1.0 }
}

fn width(text: &str, size: f32) -> f32 {
    text.chars().map(advance).sum::<f32>() * size
}

/// Breaks `text` into lines no wider than `max` (its own line breaks kept).
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        let mut used = 0.0;
        for c in paragraph.chars() {
            let w = advance(c) * size;
            // Closing punctuation never starts a line: it hangs in the margin instead.
            let hangs = "，。、；：）》」』！？%".contains(c);
            if used + w > max && !line.is_empty() && !hangs {
                lines.push(std::mem::take(&mut line));
                used = 0.0;
            }
            line.push(c);
            used += w;
        }
        lines.push(line);
    }
    lines
}

/// A PDF string of `text` for the UCS-2 CMap: UTF-16BE in hex (characters outside the BMP,
/// which the CMap cannot show, become U+3013 〓 as a visible gap).
fn hex(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 4 + 2);
    out.push('<');
    for c in text.chars() {
        let unit = u16::try_from(u32::from(c)).unwrap_or(0x3013);
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

/// Lays out the pages' content streams.
struct Layout {
    pages: Vec<String>,
    current: String,
    y: f32,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: Vec::new(),
            current: String::new(),
            y: PAGE_H - TOP,
        }
    }

    fn new_page(&mut self) {
        if !self.current.is_empty() {
            self.pages.push(std::mem::take(&mut self.current));
        }
        self.y = PAGE_H - TOP;
    }

    fn room(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, size: f32, text: &str) {
        let _ = writeln!(
            self.current,
            "BT /F1 {size} Tf {x:.2} {:.2} Td {} Tj ET",
            self.y,
            hex(text)
        );
    }

    fn centred(&mut self, size: f32, text: &str) {
        for line in wrap(text, size, PAGE_W - 2.0 * SIDE) {
            self.room(size * LEADING);
            self.y -= size;
            let x = (PAGE_W - width(&line, size)) / 2.0;
            self.text_at(x, size, &line);
            self.y -= size * (LEADING - 1.0);
        }
    }

    /// `label：value`, the value wrapped under itself.
    fn field(&mut self, label: &str, value: &str) {
        let head = format!("{label}：");
        let indent = width(&head, BODY_PT);
        let text_w = PAGE_W - 2.0 * SIDE - indent;
        let value = if value.trim().is_empty() { "" } else { value };
        let lines = wrap(value, BODY_PT, text_w);
        for (n, line) in lines.iter().enumerate() {
            self.room(BODY_PT * LEADING);
            self.y -= BODY_PT;
            if n == 0 {
                self.text_at(SIDE, BODY_PT, &head);
            }
            self.text_at(SIDE + indent, BODY_PT, line);
            self.y -= BODY_PT * (LEADING - 1.0);
        }
        if value.is_empty() {
            // A line to sign or fill by hand.
            let y = self.y + BODY_PT * (LEADING - 1.0) - 2.0;
            let _ = writeln!(
                self.current,
                "0.5 w {:.2} {y:.2} m {:.2} {y:.2} l S",
                SIDE + indent,
                PAGE_W - SIDE
            );
        }
        self.y -= BODY_PT * 0.4;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.pages.push(self.current);
        }
        self.pages
    }
}

/// The sheets as one PDF, each starting on a new page.
pub fn pdf(sheets: &[PdfSheet<'_>]) -> Vec<u8> {
    let mut layout = Layout::new();
    for (n, sheet) in sheets.iter().enumerate() {
        if n > 0 {
            layout.new_page();
        }
        let doc = sheet.document;
        if !sheet.authority.is_empty() {
            layout.centred(AUTHORITY_PT, sheet.authority);
        }
        layout.centred(TITLE_PT, &doc.title);
        if let Some(number) = doc.value("number").filter(|n| !n.is_empty()) {
            layout.centred(NUMBER_PT, number);
        }
        layout.y -= BODY_PT;
        for field in doc.fields.iter().filter(|f| f.key != "number") {
            layout.field(&field.label, &field.value);
        }
    }
    write_pdf(&layout.finish())
}

/// Serialises the objects with a cross-reference table.
fn write_pdf(pages: &[String]) -> Vec<u8> {
    // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, then per page: page, content.
    let mut objects: Vec<String> = Vec::new();
    let page_ids: Vec<usize> = (0..pages.len()).map(|n| 6 + 2 * n).collect();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_owned());
    objects.push(format!(
        "<< /Type /Pages /Count {} /Kids [{}] >>",
        pages.len(),
        page_ids
            .iter()
            .map(|id| format!("{id} 0 R"))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    objects.push(
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H \
         /DescendantFonts [4 0 R] >>"
            .to_owned(),
    );
    // CIDs 1–95 are Adobe-GB1's proportional Latin: half an em.
    objects.push(
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> \
         /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>"
            .to_owned(),
    );
    objects.push(
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 \
         /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 \
         /CapHeight 880 /StemV 93 >>"
            .to_owned(),
    );
    for (n, content) in pages.iter().enumerate() {
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            page_ids[n] + 1
        ));
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (n, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", n + 1).as_bytes());
    }
    let xref = out.len();
    let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(table, "{offset:010} 00000 n ");
    }
    let _ = write!(
        table,
        "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
        objects.len() + 1
    );
    out.extend_from_slice(table.as_bytes());
    out
}

/// The text a PDF made here shows, in order (decoding its hex strings): what a search in a
/// viewer finds. For tests and for checking a made PDF before it is shared.
pub fn text_of(pdf: &[u8]) -> String {
    let body = String::from_utf8_lossy(pdf);
    let mut out = String::new();
    let mut rest = body.as_ref();
    while let Some(start) = rest.find("> Tj") {
        let open = rest[..start].rfind('<').unwrap_or(start);
        let digits = &rest[open + 1..start];
        let units: Vec<u16> = digits
            .as_bytes()
            .chunks(4)
            .filter_map(|c| u16::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
            .collect();
        out.push_str(&String::from_utf16_lossy(&units));
        out.push('\n');
        rest = &rest[start + 4..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::FilledField;
    use crate::model::DocumentKind;

    fn order(problems: &str) -> FilledDocument {
        let field = |key: &str, label: &str, value: &str| FilledField {
            key: key.into(),
            label: label.into(),
            value: value.into(),
            required: false,
        };
        FilledDocument {
            kind: DocumentKind::RectificationOrder,
            title: "责令限期整改指令书".into(),
            fields: vec![
                field("number", "文书编号", "达旗应急责改〔2026〕A7-0002号"),
                field("enterprise", "被责令单位", "某某煤业有限公司"),
                field("problems", "存在的问题", problems),
                field("receipt", "被责令单位负责人签收", ""),
            ],
            notes: vec![],
        }
    }

    #[test]
    fn a_pdf_holds_the_number_and_the_statements_as_text() {
        let doc = order(
            "经查，你单位存在下列问题：\n1. 存在违反《煤矿安全规程》的串联通风（1302综采工作面）",
        );
        let bytes = pdf(&[PdfSheet {
            authority: "达拉特旗应急管理局",
            document: &doc,
        }]);
        assert!(bytes.starts_with(b"%PDF-1.4"));
        assert!(bytes.ends_with(b"%%EOF\n"));
        let text = text_of(&bytes);
        assert!(text.contains("达旗应急责改〔2026〕A7-0002号"), "{text}");
        assert!(
            text.contains("存在违反《煤矿安全规程》的串联通风"),
            "{text}"
        );
        assert!(text.contains("达拉特旗应急管理局") && text.contains("责令限期整改指令书"));
        // The cross-reference table points at each object (offsets in bytes).
        let tail = String::from_utf8(bytes[bytes.len() - 40..].to_vec()).unwrap();
        let xref: usize = tail
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = String::from_utf8(bytes[xref..].to_vec()).unwrap();
        assert!(table.starts_with("xref\n0 "));
        let entries: Vec<&str> = table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .collect();
        assert!(entries.len() >= 7);
        for (n, line) in entries.iter().enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            let head = format!("{} 0 obj", n + 1);
            assert!(
                bytes[offset..].starts_with(head.as_bytes()),
                "object {}",
                n + 1
            );
        }
    }

    #[test]
    fn long_text_wraps_within_the_margins_and_flows_onto_new_pages() {
        let long = "瓦斯检查存在漏检、假检情况，且在此情况下仍进行作业".repeat(60);
        let doc = order(&long);
        let bytes = pdf(&[PdfSheet {
            authority: "",
            document: &doc,
        }]);
        let body = String::from_utf8_lossy(&bytes);
        let pages = body.matches("/Type /Page ").count();
        assert!(pages >= 2, "{pages} page(s)");
        for line in wrap(&long, BODY_PT, 300.0) {
            // At most one hanging punctuation mark past the measure.
            assert!(width(&line, BODY_PT) <= 300.0 + BODY_PT, "{line}");
            assert!(!line.starts_with('，') && !line.starts_with('、'), "{line}");
        }
        // Nothing lost in the wrapping.
        let text: String = text_of(&bytes).lines().collect();
        assert!(text.contains(&long));
    }
}
