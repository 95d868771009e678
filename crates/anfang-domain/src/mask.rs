//! Display masking of personal data in API responses (ID numbers, phones, names).
//!
//! Masking keeps the character count so a masked value still looks like what it hides, and it
//! works on `char`s rather than byte offsets so Chinese names and odd input can never panic.

/// Keeps the first `head` and last `tail` characters of `s` and replaces the rest with `*`.
/// Callers guarantee `head + tail` does not exceed the character count.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    s.chars()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
        .collect()
}

fn all_stars(s: &str) -> String {
    "*".repeat(s.chars().count())
}

/// Masks an ID number: 18 characters keep the 6-digit region and the last 4
/// (`370323********1234`); other lengths keep 2 at each end, and 4 characters or fewer are
/// fully starred.
pub fn mask_id_number(s: &str) -> String {
    match s.chars().count() {
        18 => keep_ends(s, 6, 4),
        0..=4 => all_stars(s),
        _ => keep_ends(s, 2, 2),
    }
}

/// Masks a phone number: an 11-digit mobile keeps the first 3 and last 4 (`138****5678`); other
/// values keep the first 3 and last 2, and 5 characters or fewer are fully starred.
pub fn mask_phone(s: &str) -> String {
    let n = s.chars().count();
    if n == 11 && s.starts_with('1') && s.chars().all(|c| c.is_ascii_digit()) {
        keep_ends(s, 3, 4)
    } else if n <= 5 {
        all_stars(s)
    } else {
        keep_ends(s, 3, 2)
    }
}

/// Masks a personal name: the first character stays and every other becomes `*` (`张三` → `张*`,
/// `欧阳娜娜` → `欧***`).
pub fn mask_name(s: &str) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| if i == 0 { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn id_numbers() {
        assert_eq!(mask_id_number("370323198001011234"), "370323********1234");
        assert_eq!(mask_id_number("E12345678"), "E1*****78");
        assert_eq!(mask_id_number("AB12"), "****");
        assert_eq!(mask_id_number(""), "");
        assert_eq!(mask_id_number("军字第12345号"), "军字*****5号");
    }

    #[test]
    fn phones() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("053188888888"), "053*******88");
        assert_eq!(mask_phone("95588"), "*****");
        assert_eq!(mask_phone("电话号码未知的"), "电话号**知的");
    }

    #[test]
    fn names() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("李"), "李");
        assert_eq!(mask_name(""), "");
    }

    proptest! {
        #[test]
        fn masking_keeps_char_count_and_never_panics(s in any::<String>()) {
            let n = s.chars().count();
            prop_assert_eq!(mask_id_number(&s).chars().count(), n);
            prop_assert_eq!(mask_phone(&s).chars().count(), n);
            prop_assert_eq!(mask_name(&s).chars().count(), n);
        }

        #[test]
        fn masked_ids_hide_the_middle(s in "[0-9]{17}[0-9X]") {
            let masked = mask_id_number(&s);
            prop_assert_eq!(&masked[..6], &s[..6]);
            prop_assert_eq!(&masked[6..14], "********");
            prop_assert_eq!(&masked[14..], &s[14..]);
        }
    }
}
