//! A component with a wide dependency graph, every direct dependency used for real.
//!
//! It reads a release manifest (TOML), a download table (CSV) and a log excerpt
//! embedded below, plus its arguments, and prints a report. The output depends
//! on nothing else: no clock, no host randomness (the shuffle is seeded), no
//! files, no threads, and maps whose order is not fixed are sorted before printing.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;

use aho_corasick::AhoCorasick;
use arrayvec::{ArrayString, ArrayVec};
use bitflags::bitflags;
use byteorder::{BigEndian, ByteOrder, LittleEndian, ReadBytesExt, WriteBytesExt};
use bytes::{Buf, BufMut, BytesMut};
use chrono::{Datelike, Duration, NaiveDate};
use either::Either;
use fixedbitset::FixedBitSet;
use heck::{ToKebabCase, ToShoutySnakeCase, ToUpperCamelCase};
use hmac::{Hmac, Mac};
use indexmap::IndexMap;
use itertools::Itertools;
use nom::branch::alt;
use nom::character::complete::{char, digit1, space0};
use nom::combinator::{all_consuming, map_res};
use nom::multi::fold_many0;
use nom::sequence::{delimited, pair};
use nom::IResult;
use num_bigint::{BigInt, BigUint};
use num_complex::Complex64;
use num_integer::{Integer, Roots};
use num_rational::BigRational;
use num_traits::{One, ToPrimitive, Zero};
use once_cell::sync::Lazy;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use petgraph::algo::{dijkstra, toposort};
use petgraph::graph::DiGraph;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use regex::Regex;
use rustc_hash::FxHashMap;
use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use siphasher::sip::SipHasher13;
use scopeguard::defer;
use slab::Slab;
use smallvec::SmallVec;
use static_assertions::const_assert_eq;
use unicase::UniCase;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;
use unicode_xid::UnicodeXID;
use zeroize::Zeroize;

const MANIFEST: &str = r#"
[release]
name = "many-deps"
date = "2024-02-29"
channel = "https://bücher.example/releases/Stable Channel/?arch=wasm32&os=wasi#notes"
requires = ">=1.2.0, <2.0.0"

[[component]]
name = "core_parser"
version = "1.4.2"
after = []
cost = 3

[[component]]
name = "hash_kit"
version = "1.10.0-beta.1"
after = ["core_parser"]
cost = 5

[[component]]
name = "legacyCodec"
version = "0.9.7"
after = ["core_parser"]
cost = 2

[[component]]
name = "report writer"
version = "1.2.0"
after = ["hash_kit", "legacyCodec"]
cost = 4
"#;

const DOWNLOADS: &str = "\
crate,kind,downloads,ratio
serde,data,1200,0.75
regex,text,980,0.5
sha2,crypto,640,0.875
idna,text,410,0.25
toml,data,390,0.625
hmac,crypto,215,0.125
";

const LOG: &str = "\
level=info component=core_parser took=12ms
level=warn component=hash_kit took=250ms note=slow
level=info component=legacyCodec took=7ms
level=error component=report_writer took=31ms note=retry
";

#[derive(Debug, Deserialize)]
struct Manifest {
    release: Release,
    component: Vec<Component>,
}

#[derive(Debug, Deserialize)]
struct Release {
    name: String,
    date: String,
    channel: String,
    requires: String,
}

#[derive(Debug, Deserialize)]
struct Component {
    name: String,
    version: String,
    after: Vec<String>,
    cost: u32,
}

#[derive(Debug, Deserialize)]
struct Download {
    #[serde(rename = "crate")]
    name: String,
    kind: String,
    downloads: u64,
    ratio: f64,
}

#[derive(Serialize)]
struct Summary<'a> {
    release: &'a str,
    build_order: Vec<&'a str>,
    compatible: Vec<String>,
    downloads_total: u64,
    message_sha256: String,
    args: usize,
}

bitflags! {
    struct Perms: u8 {
        const READ = 0b001;
        const WRITE = 0b010;
        const EXEC = 0b100;
    }
}

static KEY_VALUE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?P<key>[a-z_]+)=(?P<value>[^\s]+)").expect("valid regex"));

/// The URL's parts; percent-encoding of the path and IDNA of the host are done by hand.
static CHANNEL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^(?P<scheme>[a-z]+)://(?P<host>[^/?#]+)(?P<path>[^?#]*)\?(?P<query>[^#]*)#(?P<fragment>.*)$")
        .expect("valid regex")
});

/// What the WHATWG URL standard percent-encodes in a path segment.
const PATH_SEGMENT: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}').add(b'%');

// Sizes the report's binary frame relies on.
const_assert_eq!(std::mem::size_of::<u16>() + std::mem::size_of::<u32>(), 6);

/// Whether a name could be a Rust identifier, by Unicode's XID rules.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().map_or(false, |first| first == '_' || first.is_xid_start())
        && chars.all(UnicodeXID::is_xid_continue)
}

fn hex_prefix(bytes: &[u8]) -> String {
    hex::encode(&bytes[..8])
}

/// `expr := term (('+' | '-') term)*`, `term := factor (('*' | '/') factor)*`.
fn expr(input: &str) -> IResult<&str, i64> {
    let (input, first) = term(input)?;
    fold_many0(
        pair(delimited(space0, alt((char('+'), char('-'))), space0), term),
        move || first,
        |acc, (op, value)| if op == '+' { acc + value } else { acc - value },
    )(input)
}

fn term(input: &str) -> IResult<&str, i64> {
    let (input, first) = factor(input)?;
    fold_many0(
        pair(delimited(space0, alt((char('*'), char('/'))), space0), factor),
        move || first,
        |acc, (op, value)| if op == '*' { acc * value } else { acc / value },
    )(input)
}

fn factor(input: &str) -> IResult<&str, i64> {
    alt((
        map_res(digit1, str::parse),
        delimited(pair(char('('), space0), expr, pair(space0, char(')'))),
    ))(input)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    defer! {
        println!("done: {} argument(s)", args.len());
    }
    let manifest: Manifest = toml::from_str(MANIFEST).expect("valid manifest");

    // Release metadata: URL with an internationalised host, date arithmetic.
    let release = &manifest.release;
    let parts = CHANNEL.captures(&release.channel).expect("channel URL");
    let host = idna::domain_to_ascii(&parts["host"]).expect("valid domain");
    let path = parts["path"]
        .split('/')
        .map(|segment| utf8_percent_encode(segment, PATH_SEGMENT).to_string())
        .join("/");
    let query: BTreeMap<_, _> = form_urlencoded::parse(parts["query"].as_bytes()).into_owned().collect();
    println!("release {} url={}://{}{}", release.name, &parts["scheme"], host, path);
    println!("query {:?} fragment={}", query, &parts["fragment"]);
    let (idn, _) = idna::domain_to_unicode(&host);
    let feedback = form_urlencoded::Serializer::new(String::new())
        .append_pair("release", &release.name)
        .append_pair("note", "grüße & thanks")
        .finish();
    println!("idn={} feedback={}", idn, feedback);
    let date = NaiveDate::parse_from_str(&release.date, "%Y-%m-%d").expect("valid date");
    let next = date + Duration::days(365);
    println!(
        "date {} ({}, ISO week {}) +365d = {} day-of-year={}",
        date,
        date.weekday(),
        date.iso_week().week(),
        next.format("%A %d %B %Y"),
        next.ordinal()
    );

    // Components: semver filtering and a build order from the dependency graph.
    let requirement = VersionReq::parse(&release.requires).expect("valid requirement");
    let mut graph = DiGraph::<&str, u32>::new();
    let nodes: IndexMap<&str, _> = manifest
        .component
        .iter()
        .map(|c| (c.name.as_str(), graph.add_node(c.name.as_str())))
        .collect();
    for component in &manifest.component {
        for before in &component.after {
            graph.add_edge(nodes[before.as_str()], nodes[component.name.as_str()], component.cost);
        }
    }
    let order: Vec<&str> = toposort(&graph, None)
        .expect("acyclic")
        .into_iter()
        .map(|index| graph[index])
        .collect();
    let distances = dijkstra(&graph, nodes["core_parser"], None, |edge| *edge.weight());
    let distances: BTreeMap<&str, u32> =
        distances.into_iter().map(|(index, cost)| (graph[index], cost)).collect();
    println!("build order: {}", order.iter().join(" -> "));
    println!("critical cost from core_parser: {:?}", distances);
    let mut compatible = Vec::new();
    for component in &manifest.component {
        let version = Version::parse(&component.version).expect("valid version");
        let ok = requirement.matches(&version);
        if ok {
            compatible.push(component.name.to_upper_camel_case());
        }
        println!(
            "  {:<14} {:<14} matches={:<5} identifier={:<5} kebab={} const={}",
            component.name,
            version,
            ok,
            is_identifier(&component.name),
            component.name.to_kebab_case(),
            component.name.to_shouty_snake_case()
        );
    }

    // Downloads table: CSV into serde structs, grouped and ranked.
    let rows: Vec<Download> = csv::Reader::from_reader(DOWNLOADS.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("valid csv");
    let mut per_kind: IndexMap<&str, u64> = IndexMap::new();
    for row in &rows {
        *per_kind.entry(row.kind.as_str()).or_insert(0) += row.downloads;
    }
    println!("downloads per kind: {:?}", per_kind);
    let by_ratio = rows
        .iter()
        .sorted_by(|a, b| b.ratio.total_cmp(&a.ratio))
        .map(|row| format!("{}={}", row.name, row.ratio))
        .join(" ");
    println!("by ratio: {}", by_ratio);
    let groups = rows
        .iter()
        .sorted_by_key(|row| row.kind.as_str())
        .group_by(|row| row.kind.as_str())
        .into_iter()
        .map(|(kind, group)| format!("{}[{}]", kind, group.map(|row| row.name.as_str()).join(",")))
        .join(" ");
    println!("groups: {}", groups);
    let total: u64 = rows.iter().map(|row| row.downloads).sum();
    let mean_ratio = rows.iter().map(|row| row.ratio).sum::<f64>() / rows.len() as f64;
    let half_ratio = half::f16::from_f64(mean_ratio);
    println!("total={} mean ratio={} as f16 bits={:#06x}", total, mean_ratio, half_ratio.to_bits());

    // The log: regex extraction, multi-pattern replacement, byte searches.
    let mut fields: FxHashMap<String, SmallVec<[String; 4]>> = FxHashMap::default();
    for capture in KEY_VALUE.captures_iter(LOG) {
        fields.entry(capture["key"].to_string()).or_default().push(capture["value"].to_string());
    }
    for key in fields.keys().sorted() {
        let values = &fields[key];
        println!("  {}: {} (spilled={})", key, values.join(","), values.spilled());
    }
    let censor = AhoCorasick::new(["error", "warn", "retry"]);
    let quiet = censor.replace_all(LOG, &["E", "W", "R"]);
    println!("log lines={} first 'slow' at byte {:?}, censored hits={}",
        memchr::memchr_iter(b'\n', LOG.as_bytes()).count(),
        memchr::memmem::find(LOG.as_bytes(), b"slow"),
        censor.find_iter(LOG).count());
    println!("censored: {}", quiet.lines().map(|line| line.split(' ').next().unwrap_or("")).join(" "));

    // Arithmetic: a nom parser, big integers and exact fractions.
    let formula = "(2 + 3) * 7 - 40 / (1 + 3)";
    let (_, value) = all_consuming(expr)(formula).expect("valid formula");
    println!("{} = {}", formula, value);
    let factorial = (1..=30u32).fold(BigUint::one(), |acc, n| acc * n);
    println!("30! = {} (base36 {}) cbrt={}", factorial, factorial.to_str_radix(36), Roots::cbrt(&factorial));
    let harmonic = (1..=12).fold(BigRational::zero(), |acc, k| {
        acc + BigRational::new(BigInt::one(), BigInt::from(k))
    });
    println!(
        "H(12) = {} ~ {:.6}; gcd(462, 1071)={} lcm(21, 6)={}",
        harmonic,
        harmonic.numer().to_f64().unwrap_or(0.0) / harmonic.denom().to_f64().unwrap_or(1.0),
        462u32.gcd(&1071),
        21u32.lcm(&6)
    );
    let mut composite = FixedBitSet::with_capacity(60);
    composite.insert_range(..2);
    for n in (2..60).take_while(|n| n * n < 60) {
        if !composite.contains(n) {
            (n * n..60).step_by(n).for_each(|multiple| composite.insert(multiple));
        }
    }
    composite.toggle_range(..);
    println!("primes < 60: {} ({} of them)", composite.ones().join(","), composite.count_ones(..));
    let unity: Vec<String> = (0..6)
        .map(|k| Complex64::from_polar(1.0, std::f64::consts::TAU * k as f64 / 6.0))
        .map(|z| format!("{:.3}{:+.3}i", z.re + 0.0, z.im + 0.0))
        .collect();
    let product = (0..6).fold(Complex64::new(1.0, 0.0), |acc, k| {
        acc * Complex64::from_polar(1.0, std::f64::consts::TAU * k as f64 / 6.0)
    });
    println!("6th roots of unity: {} (product {:.3})", unity.join(" "), product.re);

    // Hashes, MACs and checksums of one message.
    let message = format!("{}@{}", release.name, release.date);
    let bytes = message.as_bytes();
    let sha256 = Sha256::digest(bytes);
    println!("message {:?}", message);
    println!("  sha256   {}", hex::encode(sha256));
    println!("  sha512   {}..", hex_prefix(&Sha512::digest(bytes)));
    println!("  sha1     {}..", hex_prefix(&sha1::Sha1::digest(bytes)));
    println!("  md5      {}..", hex_prefix(&md5::compute(bytes).0));
    println!("  sha3-256 {}..", hex_prefix(&sha3::Sha3_256::digest(bytes)));
    let mut key = *b"release-key";
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    key.zeroize();
    mac.update(bytes);
    println!("  hmac     {}..", hex_prefix(&mac.finalize().into_bytes()));
    let mut sip = SipHasher13::new_with_keys(1, 2);
    sip.write(bytes);
    let mut fnv = fnv::FnvHasher::default();
    fnv.write(bytes);
    let mut fx = rustc_hash::FxHasher::default();
    fx.write(bytes);
    println!(
        "  crc32={:08x} adler32={:08x} xxh3={:016x} xxh64={:016x} sip13={:016x} fnv={:016x} fx={:x}",
        crc32fast::hash(bytes),
        adler::adler32_slice(bytes),
        xxhash_rust::xxh3::xxh3_64(bytes),
        xxhash_rust::xxh64::xxh64(bytes, 0),
        sip.finish(),
        fnv.finish(),
        fx.finish()
    );

    // Encodings, compression and binary framing.
    println!(
        "  base64={} base64url={} base32={}",
        base64::encode(bytes),
        base64::encode_config(&sha256[..6], base64::URL_SAFE_NO_PAD),
        data_encoding::BASE32.encode(&bytes[..5])
    );
    let repeated = LOG.repeat(8);
    let packed = miniz_oxide::deflate::compress_to_vec(repeated.as_bytes(), 6);
    let unpacked = miniz_oxide::inflate::decompress_to_vec(&packed).expect("round trip");
    println!("  deflate {} -> {} bytes, round trip ok={}", repeated.len(), packed.len(), unpacked == repeated.as_bytes());
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("日本語");
    let (euro, _, _) = encoding_rs::WINDOWS_1252.decode(&[0x80, 0x41]);
    println!("  shift_jis {} windows-1252 {:?}", hex::encode(&sjis), euro);
    let mut frame = BytesMut::with_capacity(16);
    frame.put_u16(0xCAFE);
    frame.put_u32(total as u32);
    frame.put_slice(&sha256[..2]);
    let mut frame = frame.freeze();
    let mut header = Vec::new();
    header.write_u16::<LittleEndian>(frame.get_u16()).expect("vec write");
    let counted = frame.get_u32();
    let mut reader = &header[..];
    println!(
        "  frame magic(le)={:04x} total={} tail={} be={:08x} words={:?}",
        reader.read_u16::<LittleEndian>().expect("two bytes"),
        counted,
        hex::encode(frame.chunk()),
        BigEndian::read_u32(&sha256[..4]),
        [0x0102u16, 0x0304].iter().flat_map(|word| word.to_le_bytes()).collect::<Vec<_>>()
    );
    println!("  hmac key wiped after use: {}", key.iter().all(|&byte| byte == 0));

    // Small containers and assorted utilities.
    let mut rng = StdRng::seed_from_u64(2024);
    let mut deck: Vec<u32> = (1..=10).collect();
    deck.shuffle(&mut rng);
    let dice: Vec<u32> = (0..5).map(|_| rng.gen_range(1..=6)).collect();
    println!("seeded shuffle {:?} dice {:?}", deck, dice);
    let mut window: ArrayVec<u32, 4> = ArrayVec::new();
    let overflow = deck.iter().filter(|&&card| window.try_push(card).is_err()).count();
    let mut tag = ArrayString::<16>::new();
    let _ = tag.try_push_str(&release.name);
    println!("arrayvec {:?} overflow={} tag={:?}", window, overflow, tag.as_str());
    let mut slab = Slab::new();
    let keys: Vec<usize> = order.iter().map(|name| slab.insert(*name)).collect();
    slab.remove(keys[1]);
    println!("slab len={} vacant={} reuse={}", slab.len(), slab.vacant_entry().key(), slab.insert("again"));
    let perms = Perms::READ | Perms::EXEC;
    println!("perms {:?} bits={:03b} writable={}", perms, perms.bits(), perms.contains(Perms::WRITE));
    let parsed: Vec<Either<i64, &str>> = ["12", "x", "-3"]
        .iter()
        .map(|s| s.parse().map(Either::Left).unwrap_or(Either::Right(*s)))
        .collect();
    println!("either {}", parsed.iter().join(" "));
    println!(
        "unicase Hash_Kit==hash_kit:{} ΣΊΣΥΦΟΣ==σίσυφος:{} levenshtein(kitten,sitting)={} jaro-winkler={:.4}",
        UniCase::new("Hash_Kit") == UniCase::new("hash_kit"),
        UniCase::new("ΣΊΣΥΦΟΣ") == UniCase::new("σίσυφος"),
        strsim::levenshtein("kitten", "sitting"),
        strsim::jaro_winkler("legacyCodec", "legacy_codec")
    );

    // The arguments: Unicode handling and encodings, one line each.
    let mut per_arg: HashMap<usize, String> = HashMap::new();
    for (index, arg) in args.iter().enumerate() {
        let nfc: String = arg.nfc().collect();
        let line = format!(
            "arg[{}] {:?} chars nfc={} nfd={} graphemes={} width={} words={:?} sha256={} pct={}",
            index,
            arg,
            nfc.chars().count(),
            arg.nfd().count(),
            arg.graphemes(true).count(),
            UnicodeWidthStr::width(arg.as_str()),
            arg.unicode_words().collect::<Vec<_>>(),
            hex_prefix(&Sha256::digest(nfc.as_bytes())),
            utf8_percent_encode(&nfc, NON_ALPHANUMERIC)
        );
        per_arg.insert(index, line);
    }
    for index in per_arg.keys().copied().sorted() {
        println!("{}", per_arg[&index]);
    }

    let summary = Summary {
        release: &release.name,
        build_order: order.clone(),
        compatible,
        downloads_total: total,
        message_sha256: hex::encode(sha256),
        args: args.len(),
    };
    println!("{}", serde_json::to_string(&summary).expect("serialisable"));
}
