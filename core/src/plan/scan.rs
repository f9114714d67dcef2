//! 扫码入企: what a code read at the gate names, and whether it is the enterprise inspected.
//!
//! Two kinds of code are understood:
//! - the business licence's QR, whose text (a URL of the national enterprise credit system)
//!   carries the 18-character 统一社会信用代码;
//! - the bureau's own code, printed per enterprise from the web admin:
//!   `ZHICHA:ENT:<enterprise id>` (see `bureau_code`).

use uuid::Uuid;

use crate::ids::EnterpriseId;
use crate::model::Enterprise;

/// The prefix of the bureau-issued enterprise code.
pub const BUREAU_PREFIX: &str = "ZHICHA:ENT:";

/// What a scanned text names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScannedCode {
    /// A 统一社会信用代码 found in the text (licence QR).
    CreditCode(String),
    /// A bureau-issued code.
    Enterprise(EnterpriseId),
    /// Neither: kept as read, and the inspector is warned.
    Unknown,
}

/// The text of the bureau's code for an enterprise.
pub fn bureau_code(id: EnterpriseId) -> String {
    format!("{BUREAU_PREFIX}{}", id.0)
}

/// Reads a scanned text.
pub fn read_code(text: &str) -> ScannedCode {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix(BUREAU_PREFIX)
        && let Ok(uuid) = Uuid::parse_str(rest.trim())
    {
        return ScannedCode::Enterprise(EnterpriseId(uuid));
    }
    match find_credit_code(text) {
        Some(code) => ScannedCode::CreditCode(code),
        None => ScannedCode::Unknown,
    }
}

/// The first 18-character run of digits and capital letters whose GB 32100 check character is
/// right; the licence URLs put the code in a query parameter.
pub fn find_credit_code(text: &str) -> Option<String> {
    let upper = text.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let is_code_char = |b: u8| b.is_ascii_digit() || b.is_ascii_uppercase();
    let mut start = 0;
    while start < bytes.len() {
        if !is_code_char(bytes[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < bytes.len() && is_code_char(bytes[end]) {
            end += 1;
        }
        // Any 18-character window of the run may be the code (a parameter name can run into it).
        if end - start >= 18 {
            for s in start..=end - 18 {
                let candidate = &upper[s..s + 18];
                if credit_code_checks(candidate) {
                    return Some(candidate.to_owned());
                }
            }
        }
        start = end;
    }
    None
}

/// GB 32100-2015: the 18th character is the check character of the first 17.
pub fn credit_code_checks(code: &str) -> bool {
    const CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    if code.len() != 18 {
        return false;
    }
    let mut sum = 0;
    for (n, c) in code.chars().take(17).enumerate() {
        match CHARS.find(c) {
            Some(v) => sum += v as u32 * WEIGHTS[n],
            None => return false,
        }
    }
    let check = (31 - sum % 31) % 31;
    CHARS.chars().nth(check as usize) == code.chars().nth(17)
}

/// Whether a scanned text names `enterprise` (by its credit code, or by its id or the entry it
/// was merged into).
pub fn scan_matches(enterprise: &Enterprise, text: &str) -> bool {
    // A code whose check character is off (an old or hand-made directory entry) still matches
    // when the text carries it whole.
    if let Some(own) = enterprise.credit_code.as_deref()
        && own.len() == 18
        && text
            .to_ascii_uppercase()
            .contains(&own.to_ascii_uppercase())
    {
        return true;
    }
    match read_code(text) {
        ScannedCode::CreditCode(code) => enterprise
            .credit_code
            .as_deref()
            .is_some_and(|own| own.eq_ignore_ascii_case(&code)),
        ScannedCode::Enterprise(id) => id == enterprise.id || enterprise.merged_into == Some(id),
        ScannedCode::Unknown => false,
    }
}

/// What the check-in card says about a scan.
pub fn scan_message(enterprise: &Enterprise, text: &str) -> String {
    match read_code(text) {
        ScannedCode::Unknown => "未识别为执法监督码或营业执照二维码，已记录原文".to_owned(),
        _ if scan_matches(enterprise, text) => format!("已核验：{}", enterprise.name),
        ScannedCode::CreditCode(code) => {
            format!("注意：二维码的统一社会信用代码 {code} 与所选单位不一致，已记录")
        }
        ScannedCode::Enterprise(_) => "注意：执法监督码不是所选单位的，已记录".to_owned(),
    }
}
