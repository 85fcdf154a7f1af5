//! The language a message is written in, told from its function words ("the", "und",
//! "você", "и") and, for Chinese, Japanese and Korean, from its script.
//!
//! The content model judges only the languages it has learnt both ham and spam of: a
//! model that has seen German phishing but no German ham learns that German is spam, and
//! would score every German newsletter. Training and scoring ask this module which
//! language a message is in, from the same word tokens the model reads (no second pass).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

/// FNV-1a for the table of short words: SipHash's protection against chosen keys is not
/// needed for a fixed table, and it cost more than the lookups.
#[derive(Default)]
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type Table = HashMap<&'static str, u16, BuildHasherDefault<Fnv>>;

/// A language the detector tells apart, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    /// English.
    En,
    /// Portuguese.
    Pt,
    /// Spanish.
    Es,
    /// German.
    De,
    /// French.
    Fr,
    /// Dutch.
    Nl,
    /// Italian.
    It,
    /// Russian.
    Ru,
    /// Chinese.
    Zh,
    /// Japanese.
    Ja,
    /// Korean.
    Ko,
    /// Too little text to tell, or a language the detector does not know.
    Unknown,
}

/// Every language, in the order of their bits.
pub const ALL: [Lang; 12] = [
    Lang::En,
    Lang::Pt,
    Lang::Es,
    Lang::De,
    Lang::Fr,
    Lang::Nl,
    Lang::It,
    Lang::Ru,
    Lang::Zh,
    Lang::Ja,
    Lang::Ko,
    Lang::Unknown,
];

impl Lang {
    /// The language's code (ISO 639-1), `und` when unknown.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pt => "pt",
            Lang::Es => "es",
            Lang::De => "de",
            Lang::Fr => "fr",
            Lang::Nl => "nl",
            Lang::It => "it",
            Lang::Ru => "ru",
            Lang::Zh => "zh",
            Lang::Ja => "ja",
            Lang::Ko => "ko",
            Lang::Unknown => "und",
        }
    }

    /// The language of a code ([`Lang::code`]).
    pub fn from_code(code: &str) -> Option<Lang> {
        ALL.iter().copied().find(|l| l.code() == code)
    }

    /// The language's bit in a set of languages (`u16`).
    pub fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The languages of a bit set, in order.
pub fn set_codes(set: u16) -> Vec<&'static str> {
    ALL.iter()
        .filter(|l| set & l.bit() != 0)
        .map(|l| l.code())
        .collect()
}

/// Frequent function words of each language that other languages write rarely (a word
/// shared by two languages counts for both). Words are as the tokenizer gives them:
/// normalised, lower case, two characters or more.
const WORDS: [(Lang, &str); 8] = [
    (
        Lang::En,
        "the and you your for that this with are have will from not but our was can please would what which they there been about any all has of to it on be we at or as by if my me",
    ),
    (
        Lang::Pt,
        "você voce não nao para uma seu sua são sao está pelo pela foi por que os dos das em ao ou mas nos já muito também isso obrigado olá seus suas",
    ),
    (
        Lang::Es,
        "usted para con una por los las del está más pero que el la muy gracias hola sus hay nuestro puede cuando también desde este esta es",
    ),
    (
        Lang::De,
        "und der die das nicht sie ist mit ihre ihr sich auf für wir ein eine einen dem den zu von bei auch noch nur wenn oder aber ich werden wird haben hat sind bitte ihnen uns können es",
    ),
    (
        Lang::Fr,
        "les des est vous pour dans une pas sur avec nous votre vos le la et du au aux ce cette qui que mais ou être sont merci bonjour plus par il je nos leur",
    ),
    (
        Lang::Nl,
        "het een van zijn niet voor met ook deze jouw wordt bij jij uw naar maar dat heeft uit wij onze jullie je op te er",
    ),
    (
        Lang::It,
        "il della che non per una sono con questo di del nel alla gli le ti ciao grazie anche più ma tuo suo molto essere hai la",
    ),
    (
        Lang::Ru,
        "не на что по это как вы для вас ваш ваша ваши вам мы от из за но если или все уже так быть он она они его при до",
    ),
];

/// Word → the languages it is a function word of.
fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let mut t = Table::default();
        for (lang, words) in WORDS {
            for w in words.split_whitespace() {
                *t.entry(w).or_default() |= lang.bit();
            }
        }
        t
    })
}

/// The longest function word in bytes: longer words are not looked up.
const LONGEST: usize = 14;

/// Words looked up per message: function words are frequent, so the first few hundred
/// words tell the language as well as all of them.
const MAX_LOOKUPS: u32 = 400;

/// Counts what a message's tokens say about its language.
#[derive(Clone, Debug, Default)]
pub struct Detector {
    hits: [u32; 8],
    lookups: u32,
    kana: u32,
    han: u32,
    hangul: u32,
}

/// Fewest function words for a verdict.
const MIN_HITS: u32 = 4;

impl Detector {
    /// A word token (as the tokenizer gives it).
    pub fn word(&mut self, w: &str) {
        if w.len() <= LONGEST && self.lookups < MAX_LOOKUPS {
            self.lookups += 1;
        } else {
            return self.hangul_word(w);
        }
        if let Some(&bits) = table().get(w) {
            for (i, h) in self.hits.iter_mut().enumerate() {
                if bits & (1 << i) != 0 {
                    *h += 1;
                }
            }
        }
        self.hangul_word(w);
    }

    fn hangul_word(&mut self, w: &str) {
        if let Some(c) = w.chars().next()
            && ('\u{ac00}'..='\u{d7af}').contains(&c)
        {
            self.hangul += 1;
        }
    }

    /// A CJK character token (a character or a pair).
    pub fn cjk(&mut self, t: &str) {
        for c in t.chars() {
            if ('\u{3040}'..='\u{30ff}').contains(&c) {
                self.kana += 1;
            } else {
                self.han += 1;
            }
        }
    }

    /// The language: Japanese where kana are written, Chinese where Han characters are
    /// without kana, Korean by Hangul, else the language with the most function words if
    /// it has at least four and more than any other.
    pub fn language(&self) -> Lang {
        if self.kana >= 8 {
            return Lang::Ja;
        }
        if self.han >= 16 && self.han > 4 * self.hits.iter().copied().max().unwrap_or(0) {
            return Lang::Zh;
        }
        if self.hangul >= 5 {
            return Lang::Ko;
        }
        let mut best = (0u32, Lang::Unknown);
        let mut second = 0u32;
        for (i, &h) in self.hits.iter().enumerate() {
            if h > best.0 {
                second = best.0;
                best = (h, WORDS[i].0);
            } else if h > second {
                second = h;
            }
        }
        if best.0 >= MIN_HITS && best.0 > second {
            best.1
        } else {
            Lang::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Lang {
        let mut d = Detector::default();
        for w in text.split_whitespace() {
            d.word(w);
        }
        d.language()
    }

    #[test]
    fn tells_the_languages_apart() {
        assert_eq!(
            detect("thank you for the notes, i will bring them to the meeting"),
            Lang::En
        );
        assert_eq!(
            detect("olá, você não recebeu o boleto por que a sua conta está bloqueada"),
            Lang::Pt
        );
        assert_eq!(
            detect("hola, usted puede ver los detalles del pedido en su cuenta y más"),
            Lang::Es
        );
        assert_eq!(
            detect("bitte bestätigen sie ihre daten, und wir werden das konto nicht sperren"),
            Lang::De
        );
        assert_eq!(
            detect("bonjour, vous pouvez consulter votre compte dans les paramètres et plus"),
            Lang::Fr
        );
        assert_eq!(
            detect("je hebt een pakket dat op bezorging wacht, bekijk het voor de deadline"),
            Lang::Nl
        );
        assert_eq!(
            detect("ciao, grazie per la tua risposta, non sono ancora pronto per questo"),
            Lang::It
        );
        assert_eq!(
            detect(
                "здравствуйте, ваш аккаунт заблокирован и вы не можете войти в систему, это для вас"
            ),
            Lang::Ru
        );
        assert_eq!(detect("ok thanks"), Lang::Unknown);
    }

    #[test]
    fn cjk_by_script() {
        let mut d = Detector::default();
        d.cjk("您的账户已被冻结请立即验证您的身份信息以免影响使用");
        assert_eq!(d.language(), Lang::Zh);
        let mut d = Detector::default();
        d.cjk("アカウントを確認してください");
        assert_eq!(d.language(), Lang::Ja);
        let mut d = Detector::default();
        for w in ["안녕하세요", "계정이", "잠겼습니다", "확인해", "주세요"] {
            d.word(w);
        }
        assert_eq!(d.language(), Lang::Ko);
    }

    #[test]
    fn codes_round_trip() {
        for l in ALL {
            assert_eq!(Lang::from_code(l.code()), Some(l));
        }
        assert_eq!(
            set_codes(Lang::En.bit() | Lang::Unknown.bit()),
            ["en", "und"]
        );
    }
}
