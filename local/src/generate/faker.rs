//! The faker.js helpers a Kinesis Data Generator template calls, as
//! `{{namespace.helper}}` or `{{namespace.helper(arguments)}}`: each parsed
//! with its arguments once, drawn from a seeded generator per record. The
//! word lists are short and our own: records look real, not like faker's.

use serde_json::Value;

/// One helper with its arguments checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Helper {
    /// `random.number(max)`, `random.number({"min","max","precision"})`; whole numbers
    /// unless `precision` is a fraction (`random.float`: 0.01 unless given).
    Number {
        min: f64,
        max: f64,
        precision: f64,
    },
    ArrayElement(Vec<Value>),
    /// `random.weightedArrayElement({"weights":[...],"data":[...]})`.
    Weighted {
        weights: Vec<f64>,
        data: Vec<Value>,
    },
    Uuid,
    Boolean,
    /// `n` characters of `alphabet`.
    Characters {
        alphabet: &'static [u8],
        count: usize,
    },
    /// `n` words of `list`, space-separated.
    Words {
        list: &'static [&'static str],
        count: usize,
    },
    /// Ends with a full stop, first letter upper case.
    Sentence,
    Pick(&'static [&'static str]),
    FullName,
    Email,
    UserName,
    Ipv4,
    Ipv6,
    Mac,
    Url,
    Latitude,
    Longitude,
    /// `finance.amount(min, max, decimals)`, `commerce.price(min, max, decimals)`.
    Amount {
        min: f64,
        max: f64,
        decimals: usize,
    },
    PhoneNumber,
}

/// Every helper name read, for the message that refuses another.
pub const NAMES: &[&str] = &[
    "random.number",
    "random.float",
    "random.arrayElement",
    "random.weightedArrayElement",
    "random.uuid",
    "random.boolean",
    "random.word",
    "random.words",
    "random.alphaNumeric",
    "random.hexaDecimal",
    "lorem.word",
    "lorem.words",
    "lorem.sentence",
    "name.firstName",
    "name.lastName",
    "name.findName",
    "name.jobTitle",
    "internet.ip",
    "internet.ipv6",
    "internet.mac",
    "internet.userName",
    "internet.email",
    "internet.domainName",
    "internet.url",
    "internet.userAgent",
    "address.city",
    "address.country",
    "address.countryCode",
    "address.latitude",
    "address.longitude",
    "address.zipCode",
    "commerce.productName",
    "commerce.department",
    "commerce.price",
    "company.companyName",
    "finance.amount",
    "finance.currencyCode",
    "phone.phoneNumber",
];

const WORDS: &[&str] = &[
    "amber", "beacon", "cedar", "delta", "ember", "fjord", "granite", "harbor", "island",
    "juniper", "kelp", "lantern", "meadow", "nimbus", "orchid", "pebble", "quartz", "river",
    "summit", "tundra", "umber", "valley", "willow", "yarrow", "zephyr",
];
const FIRST_NAMES: &[&str] = &[
    "Ada", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi",
    "Luis", "Mei", "Nora", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tala", "Uma", "Viktor",
    "Wen", "Yusuf", "Zoé",
];
const LAST_NAMES: &[&str] = &[
    "Abe",
    "Brennan",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "García",
    "Haddad",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urquhart",
    "Varga",
    "Walsh",
    "Yilmaz",
    "Zhang",
];
const JOB_TITLES: &[&str] = &[
    "Data Engineer",
    "Site Reliability Engineer",
    "Product Manager",
    "Security Analyst",
    "Solutions Architect",
    "Support Specialist",
    "Account Executive",
    "Research Scientist",
];
const DOMAINS: &[&str] = &["example.com", "example.net", "example.org", "test.example"];
const CITIES: &[&str] = &[
    "Lisbon",
    "Osaka",
    "Nairobi",
    "Montréal",
    "Tromsø",
    "Valparaíso",
    "Kraków",
    "Da Nang",
    "Adelaide",
    "Reykjavík",
    "Austin",
    "Marrakesh",
];
const COUNTRIES: &[&str] = &[
    "Portugal",
    "Japan",
    "Kenya",
    "Canada",
    "Norway",
    "Chile",
    "Poland",
    "Vietnam",
    "Australia",
    "Iceland",
    "United States",
    "Morocco",
];
const COUNTRY_CODES: &[&str] = &[
    "PT", "JP", "KE", "CA", "NO", "CL", "PL", "VN", "AU", "IS", "US", "MA",
];
const PRODUCTS: &[&str] = &[
    "Ergonomic Steel Chair",
    "Handmade Cotton Towels",
    "Rustic Granite Table",
    "Smart Wool Socks",
    "Refined Bronze Lamp",
    "Sleek Rubber Keyboard",
    "Practical Wooden Bench",
    "Tasty Frozen Pizza",
];
const DEPARTMENTS: &[&str] = &[
    "Books",
    "Garden",
    "Electronics",
    "Grocery",
    "Outdoors",
    "Toys",
    "Health",
    "Automotive",
];
const COMPANIES: &[&str] = &[
    "Northwind Traders",
    "Blue Yonder Labs",
    "Fabrikam Systems",
    "Contoso Freight",
    "Tailspin Foods",
    "Wingtip Analytics",
];
const CURRENCIES: &[&str] = &["USD", "EUR", "JPY", "GBP", "BRL", "INR", "KES", "CAD"];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "curl/8.11.0",
];
const ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

impl Helper {
    /// The helper `name` called with `arguments` (a JSON array of what was
    /// between its parentheses, empty without them).
    pub fn parse(name: &str, arguments: &[Value]) -> Result<Helper, String> {
        let bad = |why: &str| format!("{name}: {why}");
        let count = |default: usize| match arguments {
            [] => Ok(default),
            [Value::Number(n)] => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|&n| n <= 10_000)
                .ok_or_else(|| bad("the count must be a whole number up to 10000")),
            _ => Err(bad("takes one count, or nothing")),
        };
        let none = |helper: Helper| match arguments {
            [] => Ok(helper),
            _ => Err(bad("takes no arguments")),
        };
        match name {
            "random.number" => number(arguments, 1.0).map_err(|why| bad(&why)),
            "random.float" => number(arguments, 0.01).map_err(|why| bad(&why)),
            "random.arrayElement" => match arguments {
                [Value::Array(items)] if !items.is_empty() => {
                    Ok(Helper::ArrayElement(items.clone()))
                }
                _ => Err(bad("takes one array, not empty")),
            },
            "random.weightedArrayElement" => weighted(arguments).map_err(|why| bad(&why)),
            "random.uuid" => none(Helper::Uuid),
            "random.boolean" => none(Helper::Boolean),
            "random.word" | "lorem.word" => none(Helper::Words {
                list: WORDS,
                count: 1,
            }),
            "random.words" | "lorem.words" => Ok(Helper::Words {
                list: WORDS,
                count: count(3)?,
            }),
            "random.alphaNumeric" => Ok(Helper::Characters {
                alphabet: ALPHANUMERIC,
                count: count(1)?,
            }),
            "random.hexaDecimal" => Ok(Helper::Characters {
                alphabet: HEX,
                count: count(1)?,
            }),
            "lorem.sentence" => none(Helper::Sentence),
            "name.firstName" => none(Helper::Pick(FIRST_NAMES)),
            "name.lastName" => none(Helper::Pick(LAST_NAMES)),
            "name.findName" => none(Helper::FullName),
            "name.jobTitle" => none(Helper::Pick(JOB_TITLES)),
            "internet.ip" => none(Helper::Ipv4),
            "internet.ipv6" => none(Helper::Ipv6),
            "internet.mac" => none(Helper::Mac),
            "internet.userName" => none(Helper::UserName),
            "internet.email" => none(Helper::Email),
            "internet.domainName" => none(Helper::Pick(DOMAINS)),
            "internet.url" => none(Helper::Url),
            "internet.userAgent" => none(Helper::Pick(USER_AGENTS)),
            "address.city" => none(Helper::Pick(CITIES)),
            "address.country" => none(Helper::Pick(COUNTRIES)),
            "address.countryCode" => none(Helper::Pick(COUNTRY_CODES)),
            "address.latitude" => none(Helper::Latitude),
            "address.longitude" => none(Helper::Longitude),
            "address.zipCode" => none(Helper::Characters {
                alphabet: b"0123456789",
                count: 5,
            }),
            "commerce.productName" => none(Helper::Pick(PRODUCTS)),
            "commerce.department" => none(Helper::Pick(DEPARTMENTS)),
            "company.companyName" => none(Helper::Pick(COMPANIES)),
            "finance.currencyCode" => none(Helper::Pick(CURRENCIES)),
            "commerce.price" => amount(arguments, 1.0, 1000.0, 2).map_err(|why| bad(&why)),
            "finance.amount" => amount(arguments, 0.0, 1000.0, 2).map_err(|why| bad(&why)),
            "phone.phoneNumber" => none(Helper::PhoneNumber),
            _ => Err(format!(
                "{name} is not a helper firehose-local generates (it has {})",
                NAMES.join(", ")
            )),
        }
    }

    /// One value, appended to `out` (strings as they are, other JSON as its text).
    pub fn render(&self, rng: &mut fastrand::Rng, out: &mut String) {
        let pick = |rng: &mut fastrand::Rng, list: &[&'static str]| list[rng.usize(..list.len())];
        match self {
            Helper::Number {
                min,
                max,
                precision,
            } => {
                let steps = ((max - min) / precision).floor() as u64;
                let value = min + precision * rng.u64(..=steps) as f64;
                out.push_str(&decimal_text(value, *precision));
            }
            Helper::ArrayElement(items) => value_text(&items[rng.usize(..items.len())], out),
            Helper::Weighted { weights, data } => {
                let total: f64 = weights.iter().sum();
                let mut draw = rng.f64() * total;
                let chosen = weights
                    .iter()
                    .position(|w| {
                        draw -= w;
                        draw < 0.0
                    })
                    .unwrap_or(data.len() - 1);
                value_text(&data[chosen], out);
            }
            Helper::Uuid => {
                let bits = rng.u128(..);
                // Version 4, variant 1.
                let bits = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
                let hex = format!("{bits:032x}");
                out.push_str(&format!(
                    "{}-{}-{}-{}-{}",
                    &hex[..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..]
                ));
            }
            Helper::Boolean => out.push_str(if rng.bool() { "true" } else { "false" }),
            Helper::Characters { alphabet, count } => {
                out.extend((0..*count).map(|_| char::from(alphabet[rng.usize(..alphabet.len())])))
            }
            Helper::Words { list, count } => {
                let words: Vec<&str> = (0..*count).map(|_| pick(rng, list)).collect();
                out.push_str(&words.join(" "));
            }
            Helper::Sentence => {
                let words: Vec<&str> = (0..rng.usize(3..=10)).map(|_| pick(rng, WORDS)).collect();
                let sentence = words.join(" ");
                let mut chars = sentence.chars();
                if let Some(first) = chars.next() {
                    out.extend(first.to_uppercase());
                    out.push_str(chars.as_str());
                }
                out.push('.');
            }
            Helper::Pick(list) => out.push_str(pick(rng, list)),
            Helper::FullName => {
                out.push_str(pick(rng, FIRST_NAMES));
                out.push(' ');
                out.push_str(pick(rng, LAST_NAMES));
            }
            Helper::UserName => user_name(rng, out),
            Helper::Email => {
                user_name(rng, out);
                out.push('@');
                out.push_str(pick(rng, DOMAINS));
            }
            Helper::Ipv4 => {
                let octets: Vec<String> = (0..4).map(|_| rng.u8(..).to_string()).collect();
                out.push_str(&octets.join("."));
            }
            Helper::Ipv6 => {
                let groups: Vec<String> = (0..8).map(|_| format!("{:x}", rng.u16(..))).collect();
                out.push_str(&groups.join(":"));
            }
            Helper::Mac => {
                let bytes: Vec<String> = (0..6).map(|_| format!("{:02x}", rng.u8(..))).collect();
                out.push_str(&bytes.join(":"));
            }
            Helper::Url => {
                out.push_str("https://");
                out.push_str(pick(rng, DOMAINS));
                out.push('/');
                out.push_str(pick(rng, WORDS));
            }
            Helper::Latitude => out.push_str(&format!("{:.4}", rng.f64() * 180.0 - 90.0)),
            Helper::Longitude => out.push_str(&format!("{:.4}", rng.f64() * 360.0 - 180.0)),
            Helper::Amount { min, max, decimals } => {
                out.push_str(&format!("{:.decimals$}", min + rng.f64() * (max - min)))
            }
            Helper::PhoneNumber => out.push_str(&format!(
                "+1-555-{:03}-{:04}",
                rng.u16(100..1000),
                rng.u16(..10_000)
            )),
        }
    }
}

/// `random.number`'s arguments: none (0 to 99999), a maximum, or `{min, max, precision}`.
fn number(arguments: &[Value], default_precision: f64) -> Result<Helper, String> {
    let (mut min, mut max, mut precision) = (0.0, 99_999.0, default_precision);
    match arguments {
        [] => {}
        [Value::Number(n)] => max = n.as_f64().unwrap_or(max),
        [Value::Object(options)] => {
            for (key, value) in options {
                let n = value
                    .as_f64()
                    .ok_or_else(|| format!("{key} must be a number"))?;
                match key.as_str() {
                    "min" => min = n,
                    "max" => max = n,
                    "precision" => precision = n,
                    other => {
                        return Err(format!("{other:?} is not an option (min, max, precision)"));
                    }
                }
            }
        }
        _ => return Err("takes a maximum, or {\"min\":…,\"max\":…,\"precision\":…}".to_owned()),
    }
    if !(min <= max && precision > 0.0 && (max - min) / precision < 1e15) {
        return Err("needs min ≤ max and a precision above 0".to_owned());
    }
    Ok(Helper::Number {
        min,
        max,
        precision,
    })
}

fn weighted(arguments: &[Value]) -> Result<Helper, String> {
    let [Value::Object(options)] = arguments else {
        return Err("takes {\"weights\":[…],\"data\":[…]}".to_owned());
    };
    let weights: Option<Vec<f64>> = options
        .get("weights")
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_f64).collect());
    let data = options.get("data").and_then(Value::as_array);
    match (weights, data) {
        (Some(weights), Some(data))
            if !data.is_empty()
                && weights.len() == data.len()
                && weights.iter().all(|w| *w >= 0.0)
                && weights.iter().sum::<f64>() > 0.0 =>
        {
            Ok(Helper::Weighted {
                weights,
                data: data.clone(),
            })
        }
        _ => Err(
            "weights and data must be arrays of the same length, weights numbers ≥ 0".to_owned(),
        ),
    }
}

fn amount(arguments: &[Value], min: f64, max: f64, decimals: usize) -> Result<Helper, String> {
    let numbers: Option<Vec<f64>> = arguments.iter().map(Value::as_f64).collect();
    let numbers = numbers.ok_or("takes numbers: min, max, decimals")?;
    let (min, max, decimals) = match numbers[..] {
        [] => (min, max, decimals),
        [lo] => (lo, max, decimals),
        [lo, hi] => (lo, hi, decimals),
        [lo, hi, d] if (0.0..=10.0).contains(&d) => (lo, hi, d as usize),
        _ => return Err("takes min, max and decimals (0 to 10)".to_owned()),
    };
    if min > max {
        return Err("needs min ≤ max".to_owned());
    }
    Ok(Helper::Amount { min, max, decimals })
}

fn user_name(rng: &mut fastrand::Rng, out: &mut String) {
    let first = FIRST_NAMES[rng.usize(..FIRST_NAMES.len())];
    let last = LAST_NAMES[rng.usize(..LAST_NAMES.len())];
    // Only ASCII letters: a user name goes in e-mail addresses.
    let ascii = |name: &str| -> String {
        name.chars()
            .filter(char::is_ascii_alphabetic)
            .collect::<String>()
            .to_lowercase()
    };
    out.push_str(&format!(
        "{}.{}{}",
        ascii(first),
        ascii(last),
        rng.u8(..100)
    ));
}

/// A drawn number as text with as many decimals as `precision` has.
fn decimal_text(value: f64, precision: f64) -> String {
    let decimals = (0..10)
        .find(|&d| (precision * 10f64.powi(d)).fract().abs() < 1e-9)
        .unwrap_or(10) as usize;
    format!("{value:.decimals$}")
}

/// A JSON value as a template writes it: strings bare, the rest as JSON.
fn value_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => out.push_str(s),
        other => out.push_str(&other.to_string()),
    }
}
