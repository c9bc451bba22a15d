//! The function catalogue: names (case-sensitive), arities and required positions
//! (entra.md §6.4). The parser uses it to reject unknown functions and wrong arity.

/// Upper bound on the number of arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Max {
    Fixed(usize),
    Unbounded,
}

/// What the parser checks for one function.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub min: usize,
    pub max: Max,
    /// Positions (0-based) that may not be an empty argument.
    pub required: &'static [usize],
    /// The argument count must be even (Switch).
    pub even: bool,
}

macro_rules! functions {
    ($($v:ident => $min:expr, $max:expr, [$($req:expr),*] $(, $even:ident)?;)*) => {
        /// Every function of the Entra expression language.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Function { $($v,)* }

        impl Function {
            pub const ALL: &'static [Function] = &[$(Function::$v,)*];

            pub fn name(self) -> &'static str {
                match self { $(Function::$v => stringify!($v),)* }
            }

            /// Exact, case-sensitive lookup ("The syntax is case-sensitive", §6.1).
            pub fn from_name(name: &str) -> Option<Function> {
                match name { $(stringify!($v) => Some(Function::$v),)* _ => None }
            }

            pub fn spec(self) -> Spec {
                match self {
                    $(Function::$v => Spec {
                        min: $min,
                        max: $max,
                        required: &[$($req),*],
                        even: functions!(@even $($even)?),
                    },)*
                }
            }
        }
    };
    (@even even) => { true };
    (@even) => { false };
}

use Max::{Fixed as F, Unbounded as U};

functions! {
    Append => 2, F(2), [0];
    AppRoleAssignmentsComplex => 1, F(1), [0];
    AssertiveAppRoleAssignmentsComplex => 1, F(1), [0];
    BitAnd => 2, F(2), [0, 1];
    CBool => 1, F(1), [0];
    CDate => 1, F(1), [0];
    Coalesce => 1, U, [0];
    ConvertToBase64 => 1, F(1), [0];
    ConvertToUTF8Hex => 1, F(1), [0];
    Count => 1, F(1), [0];
    CStr => 1, F(1), [0];
    DateAdd => 3, F(3), [0, 1, 2];
    DateDiff => 3, F(3), [0, 1, 2];
    DateFromNum => 1, F(1), [0];
    FormatDateTime => 4, F(4), [0, 2, 3];
    Guid => 0, F(0), [];
    IgnoreFlowIfNullOrEmpty => 1, F(1), [0];
    IIF => 3, F(3), [0];
    InStr => 2, F(4), [0, 1];
    IsNull => 1, F(1), [0];
    IsNullOrEmpty => 1, F(1), [0];
    IsPresent => 1, F(1), [0];
    IsString => 1, F(1), [0];
    Item => 2, F(2), [0, 1];
    Join => 2, U, [];
    Left => 2, F(2), [0, 1];
    Mid => 3, F(3), [0, 1, 2];
    NormalizeDiacritics => 1, F(1), [0];
    Not => 1, F(1), [0];
    Now => 0, F(0), [];
    NumFromDate => 1, F(1), [0];
    PCase => 1, F(2), [0];
    RandomString => 5, F(6), [0, 1, 2, 3, 4];
    Redact => 1, F(1), [0];
    RemoveDuplicates => 1, F(1), [0];
    Replace => 2, F(7), [0];
    SelectUniqueValue => 2, U, [0, 1];
    SingleAppRoleAssignment => 1, F(1), [0];
    Split => 2, F(2), [0, 1];
    StripSpaces => 1, F(1), [0];
    Switch => 4, U, [0], even;
    ToLower => 1, F(2), [0];
    ToUpper => 1, F(2), [0];
    Word => 3, F(3), [0, 1, 2];
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name` (ASCII case ignored), within an edit distance of 2 or a
/// third of the name: "did you mean" hints for attribute names.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// The closest known function name, for "did you mean" hints. A case-only difference always
/// wins; otherwise an edit distance of at most 2 (or a third of the name).
pub fn suggest(name: &str) -> Option<&'static str> {
    if let Some(f) = Function::ALL
        .iter()
        .find(|f| f.name().eq_ignore_ascii_case(name))
    {
        return Some(f.name());
    }
    let limit = (name.chars().count() / 3).max(2);
    Function::ALL
        .iter()
        .map(|f| {
            (
                levenshtein(&name.to_lowercase(), &f.name().to_lowercase()),
                f,
            )
        })
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f.name())
}
