//! Exact arithmetic on the decimal strings exchanges send, without a float in sight.
//!
//! Records carry amounts as the exchange wrote them. Where a connector must derive one (a
//! total from free + locked, an average price from cost / filled), these do it exactly, or
//! say they cannot (`None`) so the connector leaves the field out rather than round it.

/// A non-negative decimal string as (digits, digits after the point): `"1.50"` → (150, 2).
pub fn parse_decimal(text: &str) -> Option<(u128, u32)> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut mantissa: u128 = 0;
    for c in int.bytes().chain(frac.bytes()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(u128::from(c - b'0'))?;
    }
    Some((mantissa, u32::try_from(frac.len()).ok()?))
}

/// Whether a non-negative decimal string is zero (`"0.00000000"`); false for anything not a
/// decimal.
pub fn is_zero(text: &str) -> bool {
    matches!(parse_decimal(text), Some((0, _)))
}

/// Renders digits with `scale` digits after the point, keeping every digit.
pub fn render(mantissa: u128, scale: u32) -> String {
    let digits = mantissa.to_string();
    let scale = scale as usize;
    if scale == 0 {
        return digits;
    }
    let padded = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{int}.{frac}")
}

/// A decimal string that may carry a leading `-`, as (negative, digits, scale); `-0` is not
/// negative.
pub fn parse_signed(text: &str) -> Option<(bool, u128, u32)> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (m, s) = parse_decimal(digits)?;
    Some((negative && m != 0, m, s))
}

/// `a + b` exactly, at the larger of the two scales (`"1.5" + "0.25"` → `"1.75"`,
/// `"1" + "-1.50"` → `"-0.50"`); either may carry a leading `-`.
pub fn add(a: &str, b: &str) -> Option<String> {
    let (na, ma, sa) = parse_signed(a)?;
    let (nb, mb, sb) = parse_signed(b)?;
    let scale = sa.max(sb);
    let va = i128::try_from(ma.checked_mul(10u128.checked_pow(scale - sa)?)?).ok()?;
    let vb = i128::try_from(mb.checked_mul(10u128.checked_pow(scale - sb)?)?).ok()?;
    let sum = (if na { -va } else { va }).checked_add(if nb { -vb } else { vb })?;
    let text = render(sum.unsigned_abs(), scale);
    Some(if sum < 0 { format!("-{text}") } else { text })
}

/// `a - b` exactly; either may carry a leading `-` (`"1" - "2.5"` → `"-1.5"`).
pub fn sub(a: &str, b: &str) -> Option<String> {
    add(a, &negate(b)?)
}

/// `-x` exactly (`"0.5"` → `"-0.5"`, `"-2"` → `"2"`); zero stays unsigned.
pub fn negate(text: &str) -> Option<String> {
    let (negative, m, _) = parse_signed(text)?;
    Some(match text.strip_prefix('-') {
        Some(positive) => positive.to_owned(),
        None if negative || m == 0 => text.to_owned(),
        None => format!("-{text}"),
    })
}

/// `a × b` exactly, at the sum of the two scales (`"1.5" × "0.25"` → `"0.375"`, `"2.0" ×
/// "3.00"` → `"6.000"`); `None` when either is not a decimal or the product does not fit.
pub fn mul(a: &str, b: &str) -> Option<String> {
    let (ma, sa) = parse_decimal(a)?;
    let (mb, sb) = parse_decimal(b)?;
    Some(render(ma.checked_mul(mb)?, sa.checked_add(sb)?))
}

/// `numerator / denominator` as a decimal string, when the quotient has a finite decimal
/// expansion that fits; `None` otherwise (zero denominator, `1/3`, overflow, not decimals).
/// Trailing zeros are dropped: `"48.000012" / "12"` → `"4.000001"`.
pub fn exact_quotient(numerator: &str, denominator: &str) -> Option<String> {
    let (a, sa) = parse_decimal(numerator)?;
    let (b, sb) = parse_decimal(denominator)?;
    if b == 0 {
        return None;
    }
    // a / 10^sa  ÷  b / 10^sb  =  (a · 10^sb) / (b · 10^sa)
    let mut n = a.checked_mul(10u128.checked_pow(sb)?)?;
    let mut d = b.checked_mul(10u128.checked_pow(sa)?)?;
    let g = gcd(n, d);
    n /= g;
    d /= g;
    let (mut twos, mut fives) = (0u32, 0u32);
    while d % 2 == 0 {
        d /= 2;
        twos += 1;
    }
    while d % 5 == 0 {
        d /= 5;
        fives += 1;
    }
    if d != 1 {
        return None;
    }
    let scale = twos.max(fives);
    let mantissa = n
        .checked_mul(2u128.checked_pow(scale - twos)?)?
        .checked_mul(5u128.checked_pow(scale - fives)?)?;
    let text = render(mantissa, scale);
    Some(if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    })
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotients_are_exact_or_absent() {
        assert_eq!(
            exact_quotient("48.000012", "12").as_deref(),
            Some("4.000001")
        );
        assert_eq!(exact_quotient("10", "4").as_deref(), Some("2.5"));
        assert_eq!(
            exact_quotient("10000.00000000", "0.50000000").as_deref(),
            Some("20000")
        );
        assert_eq!(exact_quotient("0.00000001", "3"), None);
        assert_eq!(exact_quotient("1", "0.00000000"), None);
        assert_eq!(exact_quotient("0.0", "0.0"), None);
        assert_eq!(exact_quotient("-1", "1"), None);
        assert_eq!(exact_quotient("1", "1024").as_deref(), Some("0.0009765625"));
        assert_eq!(exact_quotient("7", "0.008").as_deref(), Some("875"));
    }

    #[test]
    fn sums_and_products_keep_every_digit() {
        assert_eq!(add("1.5", "0.25").as_deref(), Some("1.75"));
        assert_eq!(
            add("0.00000000", "0.00000000").as_deref(),
            Some("0.00000000")
        );
        assert_eq!(add("12", "0.5").as_deref(), Some("12.5"));
        assert_eq!(add("1e3", "1"), None);
        assert_eq!(add("1", "-1.50").as_deref(), Some("-0.50"));
        assert_eq!(add("-1", "-1").as_deref(), Some("-2"));
        assert_eq!(sub("1", "2.5").as_deref(), Some("-1.5"));
        assert_eq!(sub("-0.1", "-0.1").as_deref(), Some("0.0"));
        assert_eq!(sub("5", "x"), None);
        assert_eq!(negate("0.5").as_deref(), Some("-0.5"));
        assert_eq!(negate("-2").as_deref(), Some("2"));
        assert_eq!(negate("0.00").as_deref(), Some("0.00"));
        assert_eq!(negate("--1"), None);
        assert_eq!(parse_signed("-0"), Some((false, 0, 0)));
        assert_eq!(mul("1.5", "0.25").as_deref(), Some("0.375"));
        assert_eq!(mul("2.0", "3.00").as_deref(), Some("6.000"));
        assert_eq!(
            mul("0.00000001", "0.00000001").as_deref(),
            Some("0.0000000000000001")
        );
        assert_eq!(mul("x", "1"), None);
        assert!(is_zero("0.000") && is_zero("0") && !is_zero("0.001") && !is_zero("abc"));
        assert_eq!(parse_decimal(".5"), Some((5, 1)));
        assert_eq!(parse_decimal("."), None);
    }
}
