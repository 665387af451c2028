//! Generators of hostile requests for `hostile_input.rs`: seeded, so a
//! failure names a seed and case that reproduce it.

use serde_json::{json, Value};

/// xorshift64*: small, seeded, good enough to pick cases.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

/// Text that must be stored and shown as given (markup, SQL, templates).
pub const NASTY_TEXT: &[&str] = &[
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "\"'><svg onload=alert(1)>",
    "'; DROP TABLE users; --",
    "1' OR '1'='1",
    "{{7*7}} ${7*7} #{7*7}",
    "../../etc/passwd",
    "Zoë 🎉 عربي",
];

/// Text no field accepts: control characters, NUL, bidi overrides, overlong.
pub fn bad_text(g: &mut Gen) -> String {
    match g.below(5) {
        0 => "a\u{0}b".into(),
        1 => "line\nbreak\r\n".into(),
        2 => "evil\u{202e}txt".into(),
        3 => "x".repeat(256 + g.below(10_000)),
        _ => "\u{7}\u{1b}[31mred".into(),
    }
}

/// Values a number field cannot take.
pub fn not_a_number(g: &mut Gen) -> String {
    g.pick(&["abc", "", "1.5", "1e99", "99999999999999999999999", "0x10", "--1", "NaN", "%00", "<b>1</b>", "1; DROP"])
        .to_string()
}

/// A JSON value of the wrong shape for a string field.
fn wrong_type(g: &mut Gen) -> Value {
    g.pick(&[json!(42), json!(true), json!(["a"]), json!({"a": 1}), json!(-1.5e300)])
}

/// Nested arrays `depth` deep (serde_json stops at 128).
pub fn deep(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

/// One ingest request that must be refused: method, path, raw body.
pub fn ingest_case(g: &mut Gen) -> (reqwest::Method, String, Vec<u8>) {
    use reqwest::Method;
    let user = "u1";
    let event = || json!({"type": "tap", "userID": user});
    let body = |v: Value| v.to_string().into_bytes();
    match g.below(16) {
        // A strict prefix of compact JSON never parses.
        0 => {
            let full = json!({"userName": g.pick(NASTY_TEXT), "email": "a@b.co"}).to_string();
            let cut = 1 + g.below(full.len() - 1);
            (Method::PUT, format!("/users/{user}"), full.as_bytes()[..cut].to_vec())
        }
        1 => {
            let mut raw = br#"{"userName": "ab"}"#.to_vec();
            raw.splice(14..14, [0xff, 0xfe, 0xc3]);
            (Method::PUT, format!("/users/{user}"), raw)
        }
        2 => (Method::PUT, format!("/users/{user}"), body(json!({"userName": wrong_type(g)}))),
        3 => (Method::PUT, format!("/users/{user}"), body(json!({"userName": bad_text(g)}))),
        4 => (Method::PUT, format!("/users/{user}"), body(json!({"email": g.pick(NASTY_TEXT)}))),
        5 => (Method::PUT, format!("/users/{user}"), body(json!({"userName": "A", "isAdmin": true}))),
        6 => (Method::PUT, format!("/users/{}", urlencode(&bad_text(g))), body(json!({}))),
        7 => {
            let raw = if g.below(2) == 0 {
                format!(r#"[{{"type":"tap","data":{}}}]"#, deep(200 + g.below(50_000))).into_bytes()
            } else {
                body(json!([event(), 1]))
            };
            (Method::POST, "/events".into(), raw)
        }
        8 => (Method::POST, "/events".into(), body(Value::Array(vec![event(); 1001 + g.below(500)]))),
        9 => {
            let mut e = event();
            e["time"] =
                g.pick(&[json!("99999-01-01T00:00:00Z"), json!("1999-12-31T23:59:59Z"), json!(1e20), json!("now")]);
            (Method::POST, "/events".into(), body(json!([e])))
        }
        10 => {
            let mut e = event();
            let field = g.pick(&["type", "userID", "deviceID", "sessionID", "id"]);
            e[field] = if g.below(2) == 0 { json!(bad_text(g)) } else { wrong_type(g) };
            (Method::POST, "/events".into(), body(json!([e])))
        }
        11 => {
            let coordinates = g.pick(&[
                json!({"latitude": 91, "longitude": 0}),
                json!({"latitude": 0, "longitude": -180.5}),
                json!({"latitude": "north", "longitude": 0}),
                json!({"latitude": 0}),
                json!({"latitude": 1, "longitude": 1, "accuracy": -5}),
            ]);
            let raw =
                if g.below(4) == 0 { br#"{"latitude": 1e999, "longitude": 0}"#.to_vec() } else { body(coordinates) };
            (Method::POST, "/devices/d1/locations".into(), raw)
        }
        12 => (Method::PUT, "/devices/d1".into(), body(json!({"userID": user, "platform": bad_text(g)}))),
        13 => {
            let name = if g.below(2) == 0 { "n".repeat(65 + g.below(300)) } else { bad_text(g) };
            (Method::PUT, format!("/users/{user}/segments/{}", urlencode(&name)), Vec::new())
        }
        14 => {
            let long = "x".repeat(10_001 + g.below(50_000));
            let message = g.pick(&[
                json!({"title": "", "body": "b"}),
                json!({"title": "t", "body": long}),
                json!({"title": "t".repeat(201), "body": "b"}),
                json!({"title": "t", "body": 5}),
                json!({"title": " \t ", "body": "b"}),
            ]);
            (Method::POST, format!("/users/{user}/messages"), body(message))
        }
        _ => (Method::POST, "/events".into(), vec![b'['; 3 * 1024 * 1024]),
    }
}

/// One inbound-mail webhook body that must be refused (no such recipient,
/// or nothing parseable).
pub fn mail_case(g: &mut Gen) -> (String, Vec<u8>) {
    let to = g.pick(&["", "?to=nobody%40push.test", "?to=%3Cscript%3E", "?to=a%00b%40push.test"]);
    let raw: Vec<u8> = match g.below(5) {
        0 => Vec::new(),
        1 => (0..g.below(4096)).map(|_| g.next() as u8).collect(),
        2 => b"From: a@b.c\r\nTo: nobody@push.test\r\nSubject: hi\r\n\r\nbody".to_vec(),
        3 => b"Content-Type: multipart/mixed; boundary=\"x\"\r\nTo: <script>@push.test\r\n\r\n--x\r\nbroken".to_vec(),
        _ => format!("To: {}@push.test\r\nSubject: {}\r\n\r\n{}", "z".repeat(2000), g.pick(NASTY_TEXT), "\u{0}")
            .into_bytes(),
    };
    (to.to_string(), raw)
}

/// One line of an SMTP conversation that must not deliver anything.
pub fn smtp_line(g: &mut Gen) -> Vec<u8> {
    let line: Vec<u8> = match g.below(9) {
        0 => b"HELO hostile.example".to_vec(),
        1 => format!("MAIL FROM:<{}>", g.pick(NASTY_TEXT)).into_bytes(),
        2 => b"MAIL FROM:<a@b.example>".to_vec(),
        3 => format!("RCPT TO:<{}@push.test>", g.pick(&["nobody", "<script>", "a'b", "x%00"])).into_bytes(),
        4 => b"DATA".to_vec(),
        5 => vec![b'A'; 1100 + g.below(4000)],
        6 => (0..g.below(200)).map(|_| g.next() as u8 | 0x80).collect(),
        7 => b"RSET".to_vec(),
        _ => g.pick(&["VRFY root", "EXPN all", "AUTH PLAIN AAAA", "STARTTLS", "\u{0}", "BDAT 10 LAST"]).into(),
    };
    let mut line = line;
    line.extend_from_slice(b"\r\n");
    line
}

pub fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}
