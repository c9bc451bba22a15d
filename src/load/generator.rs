//! The synthetic directory: users, groups and memberships computed from `(seed, index)` by a
//! stateless hash, so a 100,000-user directory costs no memory until a record is asked for,
//! and the same `--seed` always yields the same directory (its fingerprint proves it).
//!
//! The incremental cycle's changes are part of the directory too (which users change their
//! display name, which are disabled, which members leave and join each group), so a re-run
//! with the same seed replays the same traffic.

const GIVEN: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "John",
    "Radia",
    "Edsger",
    "Hedy",
    "Tim",
    "Katherine",
    "Donald",
    "Sophie",
    "Niklaus",
    "Annie",
    "Guido",
];
const SURNAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Allen",
    "Backus",
    "Perlman",
    "Dijkstra",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
    "Knuth",
    "Wilson",
    "Wirth",
    "Easley",
    "van Rossum",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Finance",
    "Support",
    "Legal",
    "Research",
];

/// splitmix64: a good 64-bit mix, stable forever (unlike `rand`'s `StdRng`, whose algorithm
/// may change between versions and would break `--seed` reproducibility).
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A hash of the seed, a purpose tag and an index.
fn h(seed: u64, tag: u64, i: u64) -> u64 {
    mix(mix(seed ^ tag.wrapping_mul(0x100_0000_01B3)) ^ i)
}

const T_GIVEN: u64 = 1;
const T_SURNAME: u64 = 2;
const T_DEPT: u64 = 3;
const T_UPDATE: u64 = 4;
const T_DISABLE: u64 = 5;
const T_OFFSET: u64 = 6;
const T_OKTA_ID: u64 = 7;
const T_PASSWORD: u64 = 8;
const T_OVERLAP: u64 = 9;
const T_OBJECT_ID: u64 = 10;

/// One source user, as the IdP's directory holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub index: u32,
    /// The matching attribute: Entra's `mail` → userName, Okta's login → userName.
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub department: String,
    /// Okta's user id (`00u…`, 20 characters), sent as externalId (Okta and SCIM Version 2.0, "Create the User").
    pub okta_id: String,
    /// Okta's placeholder password: 8 characters, different per user (Okta and SCIM Version 2.0, "Create the User").
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub index: u32,
    pub display_name: String,
    /// Entra's objectId (mapped to externalId by the default group mappings).
    pub object_id: String,
}

/// The directory's size and seed; every record is derived from these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Directory {
    pub seed: u64,
    pub users: u32,
    pub groups: u32,
    /// Members per group (at most `users`).
    pub members: u32,
    /// Per mille of users assigned twice at once (directly and through a group), whose two
    /// provisioning tasks race: lookup, lookup, create, create.
    pub overlap_per_mille: u32,
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn base62(mut x: u64, len: usize, salt: u64) -> String {
    let mut out = String::with_capacity(len);
    for k in 0..len {
        if x < 62 {
            x = mix(x ^ salt ^ k as u64);
        }
        out.push(BASE62[(x % 62) as usize] as char);
        x /= 62;
    }
    out
}

impl Directory {
    pub fn new(seed: u64, users: u32, groups: u32, members: u32) -> Directory {
        Directory {
            seed,
            users,
            groups,
            members: members.min(users),
            overlap_per_mille: 20,
        }
    }

    /// A short tag from the seed that makes names unique per seed, so runs with different
    /// seeds never collide on a shared server.
    pub fn tag(&self) -> String {
        format!("{:08x}", mix(self.seed) as u32)
    }

    fn names(&self, i: u32) -> (&'static str, &'static str) {
        let i64_ = u64::from(i);
        let given = GIVEN[(h(self.seed, T_GIVEN, i64_) % GIVEN.len() as u64) as usize];
        let family = SURNAMES[(h(self.seed, T_SURNAME, i64_) % SURNAMES.len() as u64) as usize];
        (given, family)
    }

    /// User `i`'s userName, `given.family.i.tag@contoso.test` (lowercase, the family name
    /// without spaces), made without the rest of the user: member batches and the audit need
    /// only this, for thousands of users.
    pub fn user_name(&self, i: u32) -> String {
        use std::fmt::Write;
        let (given, family) = self.names(i);
        let mut login = String::with_capacity(given.len() + family.len() + 36);
        let lower = |login: &mut String, s: &str, drop_spaces: bool| {
            if s.is_ascii() {
                let kept = s.bytes().filter(|b| !(drop_spaces && *b == b' '));
                login.extend(kept.map(|b| char::from(b.to_ascii_lowercase())));
            } else if drop_spaces {
                login.push_str(&s.to_lowercase().replace(' ', ""));
            } else {
                login.push_str(&s.to_lowercase());
            }
        };
        lower(&mut login, given, false);
        login.push('.');
        lower(&mut login, family, true);
        let _ = write!(login, ".{i}.{:08x}@contoso.test", mix(self.seed) as u32);
        login
    }

    pub fn user(&self, i: u32) -> User {
        let i64_ = u64::from(i);
        let (given, family) = self.names(i);
        let dept = DEPARTMENTS[(h(self.seed, T_DEPT, i64_) % DEPARTMENTS.len() as u64) as usize];
        User {
            index: i,
            user_name: self.user_name(i),
            given_name: given.to_string(),
            family_name: family.to_string(),
            display_name: format!("{given} {family}"),
            department: dept.to_string(),
            okta_id: format!("00u{}", base62(h(self.seed, T_OKTA_ID, i64_), 17, 1)),
            password: base62(h(self.seed, T_PASSWORD, i64_), 8, 2),
        }
    }

    pub fn group(&self, g: u32) -> Group {
        let x = h(self.seed, T_OBJECT_ID, u64::from(g));
        let y = mix(x);
        Group {
            index: g,
            display_name: format!("load-{}-group-{g:04}", self.tag()),
            object_id: format!(
                "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
                x as u32,
                (x >> 32) as u16,
                (x >> 48) & 0xfff,
                y & 0xfff,
                (y >> 16) & 0xffff_ffff_ffff
            ),
        }
    }

    /// Where group `g`'s window of consecutive users starts.
    fn offset(&self, g: u32) -> u32 {
        if self.users == 0 {
            return 0;
        }
        (h(self.seed, T_OFFSET, u64::from(g)) % u64::from(self.users)) as u32
    }

    /// How many members leave (and as many join) each group in the incremental cycle: a tenth,
    /// as long as the moved window still fits in the directory.
    pub fn churn(&self) -> u32 {
        let r = self.members.div_ceil(10);
        if self.members + r <= self.users {
            r
        } else {
            0
        }
    }

    /// Group `g`'s members (user indices) after the initial cycle.
    pub fn initial_members(&self, g: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.offset(g);
        (0..self.members).map(move |j| (start + j) % self.users.max(1))
    }

    /// Members that leave group `g` in the incremental cycle (the first `churn` of its window).
    pub fn leaving(&self, g: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.offset(g);
        (0..self.churn()).map(move |j| (start + j) % self.users.max(1))
    }

    /// Members that join group `g` in the incremental cycle (the users just past its window).
    pub fn joining(&self, g: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.offset(g);
        let k = self.members;
        (0..self.churn()).map(move |j| (start + k + j) % self.users.max(1))
    }

    /// Group `g`'s members after the incremental cycle.
    pub fn final_members(&self, g: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.offset(g) + self.churn();
        (0..self.members).map(move |j| (start + j) % self.users.max(1))
    }

    /// A tenth of the users get a new display name in the incremental cycle.
    pub fn is_updated(&self, i: u32) -> bool {
        h(self.seed, T_UPDATE, u64::from(i)) % 10 == 0
    }

    /// A twentieth of the users are disabled (Entra: IsSoftDeleted; Okta: deactivated).
    pub fn is_disabled(&self, i: u32) -> bool {
        h(self.seed, T_DISABLE, u64::from(i)) % 20 == 0
    }

    /// Whether user `i` is assigned twice at once in the initial cycle.
    pub fn is_overlapping(&self, i: u32) -> bool {
        h(self.seed, T_OVERLAP, u64::from(i)) % 1000 < u64::from(self.overlap_per_mille)
    }

    /// The display name after the incremental cycle.
    pub fn final_display_name(&self, u: &User) -> String {
        if self.is_updated(u.index) {
            format!("{} ({})", u.display_name, u.department)
        } else {
            u.display_name.clone()
        }
    }

    pub fn memberships(&self) -> u64 {
        u64::from(self.groups) * u64::from(self.members)
    }

    /// FNV-1a over every record and every planned change: equal fingerprints, equal
    /// directories (and equal traffic).
    pub fn fingerprint(&self) -> String {
        let mut f: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain(std::iter::once(0)) {
                f ^= u64::from(b);
                f = f.wrapping_mul(0x100_0000_01b3);
            }
        };
        for i in 0..self.users {
            let u = self.user(i);
            eat(&u.user_name);
            eat(&u.display_name);
            eat(&u.department);
            eat(&u.okta_id);
            eat(&u.password);
            eat(if self.is_updated(i) { "u" } else { "-" });
            eat(if self.is_disabled(i) { "d" } else { "-" });
            eat(if self.is_overlapping(i) { "o" } else { "-" });
        }
        for g in 0..self.groups {
            let gr = self.group(g);
            eat(&gr.display_name);
            eat(&gr.object_id);
            for m in self.initial_members(g).chain(self.final_members(g)) {
                eat(&m.to_string());
            }
        }
        format!("{f:016x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `user_name` writes what the format it replaced wrote, for every name in the tables.
    #[test]
    fn user_names_are_the_formatted_logins() {
        for seed in [0, 1, 42, u64::MAX] {
            let d = Directory {
                seed,
                users: 5000,
                groups: 0,
                members: 0,
                overlap_per_mille: 0,
            };
            for i in 0..5000 {
                let (given, family) = d.names(i);
                let formatted = format!(
                    "{}.{}.{i}.{}@contoso.test",
                    given.to_lowercase(),
                    family.to_lowercase().replace(' ', ""),
                    d.tag()
                );
                assert_eq!(d.user_name(i), formatted);
                assert_eq!(d.user(i).user_name, formatted);
            }
        }
    }

    #[test]
    fn same_seed_same_directory_other_seed_other_directory() {
        let a = Directory::new(7, 50, 3, 10);
        assert_eq!(a.fingerprint(), Directory::new(7, 50, 3, 10).fingerprint());
        assert_ne!(a.fingerprint(), Directory::new(8, 50, 3, 10).fingerprint());
        assert_eq!(a.user(3), Directory::new(7, 50, 3, 10).user(3));
        assert_eq!(a.user(3).okta_id.len(), 20);
        assert_eq!(a.user(3).password.len(), 8);
    }

    #[test]
    fn churn_moves_the_window_without_overlap() {
        let d = Directory::new(1, 100, 2, 20);
        assert_eq!(d.churn(), 2);
        let initial: Vec<u32> = d.initial_members(0).collect();
        let leaving: Vec<u32> = d.leaving(0).collect();
        let joining: Vec<u32> = d.joining(0).collect();
        let fin: Vec<u32> = d.final_members(0).collect();
        assert!(leaving
            .iter()
            .all(|m| initial.contains(m) && !fin.contains(m)));
        assert!(joining
            .iter()
            .all(|m| !initial.contains(m) && fin.contains(m)));
        assert_eq!(fin.len(), 20);
        // Members equal to users: nothing can move.
        assert_eq!(Directory::new(1, 10, 1, 10).churn(), 0);
    }
}
