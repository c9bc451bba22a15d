//! Table-driven golden vectors, built from the examples in entra.md §5.2 / §6 and the FUNC
//! reference. Each row: (expression, source object as JSON, expected outcome, citation).

use super::*;
use serde_json::{Map, Value as Json};
use time::macros::datetime;

#[derive(Debug)]
enum Want {
    S(&'static str),
    M(&'static [&'static str]),
    Null,
    /// IgnoreFlowIfNullOrEmpty fired.
    Ignore,
    /// Parse error at this 1-based column.
    ParseAt(usize),
    /// Evaluation error whose message contains this text.
    EvalErr(&'static str),
}
use Want::*;

fn ctx() -> EvalContext {
    EvalContext {
        now: datetime!(2021-07-02 15:33:38 UTC),
        rng_seed: Some(42),
    }
}

fn obj(src: &str) -> Map<String, Json> {
    match serde_json::from_str::<Json>(src) {
        Ok(Json::Object(m)) => m,
        other => panic!("test source is not a JSON object: {src} ({other:?})"),
    }
}

#[rustfmt::skip]
const CASES: &[(&str, &str, Want, &str)] = &[
    // --- §5.2 / vendor guide: the active mapping ---------------------------------------------
    (r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#, r#"{"IsSoftDeleted": false}"#, S("True"), "§5.2 active user"),
    (r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#, r#"{"IsSoftDeleted": true}"#, S("False"), "§5.2 soft-deleted user"),
    (r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#, r#"{}"#, Null, "§5.2 absent source → empty default → not flowed"),
    (r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#, r#"{"IsSoftDeleted": "garbage"}"#, Null, "§5.2 non-matching source"),
    (r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#, r#"{"IsSoftDeleted": "false"}"#, Null, "§5.2 Switch is case-sensitive"),
    (r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#, r#"{"isSoftDeleted": "True"}"#, S("False"), "§5.1 case-insensitive attribute lookup (choice 10)"),
    (r#"Not([IsSoftDeleted])"#, r#"{"IsSoftDeleted": "False"}"#, S("True"), "§6.4 Not"),
    (r#"Not([IsSoftDeleted])"#, r#"{"IsSoftDeleted": true}"#, S("False"), "§6.4 Not on JSON true"),
    (r#"Not([IsSoftDeleted])"#, r#"{}"#, Null, "§10.9 Not on null → Null (choice 3)"),
    (r#"Not([x])"#, r#"{"x": ""}"#, S("True"), "§10.9 Not on \"\" → True (choice 3)"),
    (r#"Not([x])"#, r#"{"x": "junk"}"#, S("True"), "§6.4 Not: otherwise True"),
    // --- Switch -------------------------------------------------------------------------------
    (r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane", "SA", "Australia/Adelaide")"#, r#"{"state": "QLD"}"#, S("Australia/Brisbane"), "§6.4 Switch doc example"),
    (r#"Switch([state], "Australia/Sydney", "NSW", "Australia/Sydney","QLD", "Australia/Brisbane")"#, r#"{"state": "WA"}"#, S("Australia/Sydney"), "§6.4 Switch default"),
    (r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#, r#"{"statusFlag": ""}"#, S("0"), "§6.4 Switch key \"\" matches empty"),
    (r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#, r#"{}"#, S("0"), "§6.4 Switch key \"\" matches absent"),
    (r#"Switch([statusFlag], "Default Value", "true", "1", "", "0")"#, r#"{"statusFlag": "TRUE"}"#, S("Default Value"), "§6.4 Switch case-sensitive keys"),
    (r#"Switch(ToLower([statusFlag]), "0", "true", "1", "false", "0")"#, r#"{"statusFlag": "TRUE"}"#, S("1"), "§6.4 Switch ToLower normalisation"),
    (r#"Switch([x], "", "a", "b")"#, r#"{"x": "z"}"#, S(""), "§6.4 Switch \"\" default flows \"\""),
    (r#"Switch([country],[country],"","Other")"#, r#"{"country": ""}"#, S("Other"), "§6.4 IIF workaround via Switch"),
    (r#"Switch([country],[country],"","Other")"#, r#"{"country": "NL"}"#, S("NL"), "§6.4 IIF workaround via Switch"),
    (r#"Switch(IsPresent([directManager]),[directManager], IsPresent([skiplevelManager]),[skiplevelManager], IsPresent([director]),[director])"#, r#"{"directManager": "m1", "skiplevelManager": "m2"}"#, S("m2"), "§6.4 IsPresent example (literal Switch semantics)"),
    (r#"Switch([a], , "x")"#, r#"{}"#, ParseAt(1), "§6.4 Switch needs an even number of parameters"),
    // --- IIF / CBool --------------------------------------------------------------------------
    (r#"IIF([country]="USA",[country],[department])"#, r#"{"country": "USA", "department": "Sales"}"#, S("USA"), "§6.4 IIF doc example"),
    (r#"IIF([country]="USA",[country],[department])"#, r#"{"country": "NL", "department": "Sales"}"#, S("Sales"), "§6.4 IIF false branch"),
    (r#"IIF([country]="USA",IIF([state]="CA","True","False"),"False")"#, r#"{"country": "USA", "state": "CA"}"#, S("True"), "§6.4 IIF AND via nesting"),
    (r#"IIF([country]="USA","True",IIF([state]="CA","True","False"))"#, r#"{"country": "NL", "state": "CA"}"#, S("True"), "§6.4 IIF OR via nesting"),
    (r#"IIF([country]="","Other",[country])"#, r#"{"country": ""}"#, Null, "§6.4/§10.9 IIF on empty source fails → Null (choice 1)"),
    (r#"IIF(IsPresent([country]),[country],"Other")"#, r#"{}"#, Null, "§6.4/§10.9 IIF on absent source fails → Null (choice 1)"),
    (r#"IIF([companyName] = "Company A", "A", IIF([companyName] = "Company B", "B", "External"))"#, r#"{"companyName": "Company B"}"#, S("B"), "§6.4 Switch-bug workaround"),
    (r#"IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True")"#, r#"{"StatusHireDate": "2021-07-20-07:00"}"#, S("False"), "§6.4 DateDiff example 2"),
    (r#"Switch([Active], , "1", IIF(DateDiff("d", Now(), CDate([StatusHireDate])) > 5, "False", "True"), "0", "False")"#, r#"{"Active": "1", "StatusHireDate": "2021-07-04-07:00"}"#, S("True"), "§6.4 DateDiff example 2"),
    (r#"IIF([n] >= 10, "big", "small")"#, r#"{"n": 9}"#, S("small"), "§6.1 numeric comparison"),
    (r#"IIF([a] <> [b], "diff", "same")"#, r#"{"a": "x", "b": "X"}"#, S("diff"), "§6.1 <> case-sensitive (choice 11)"),
    (r#"CBool([attribute1] = [attribute2])"#, r#"{"attribute1": "a", "attribute2": "a"}"#, S("True"), "§6.4 CBool doc example"),
    (r#"CBool([attribute1] = [attribute2])"#, r#"{"attribute1": "a", "attribute2": "b"}"#, S("False"), "§6.4 CBool"),
    (r#"CBool([n])"#, r#"{"n": 3}"#, S("True"), "§6.4 CBool non-zero"),
    (r#"CBool("0")"#, r#"{}"#, S("False"), "§6.4 CBool zero"),
    // --- Coalesce / Is* -----------------------------------------------------------------------
    (r#"Coalesce([mail],[userPrincipalName])"#, r#"{"userPrincipalName": "John.Doe@contoso.com"}"#, S("John.Doe@contoso.com"), "§6.4 Coalesce doc example"),
    (r#"Coalesce([mail],[userPrincipalName])"#, r#"{"mail": "", "userPrincipalName": "u"}"#, S(""), "§10.9 Coalesce keeps \"\" (choice 4)"),
    (r#"Coalesce([a],[b],"fallback")"#, r#"{}"#, S("fallback"), "§6.4 Coalesce defaultValue"),
    (r#"Coalesce([a],[b])"#, r#"{}"#, Null, "§6.4 Coalesce all null"),
    (r#"IsNull([displayName])"#, r#"{}"#, S("True"), "§6.4 IsNull"),
    (r#"IsNull([displayName])"#, r#"{"displayName": ""}"#, S("False"), "§6.3 \"\" is not null"),
    (r#"IsNullOrEmpty([displayName])"#, r#"{"displayName": ""}"#, S("True"), "§6.4 IsNullOrEmpty"),
    (r#"IsPresent([displayName])"#, r#"{"displayName": "x"}"#, S("True"), "§6.4 IsPresent"),
    (r#"IsPresent([displayName])"#, r#"{"displayName": null}"#, S("False"), "§6.4 IsPresent on JSON null"),
    (r#"IsString([displayName])"#, r#"{"displayName": "x"}"#, S("True"), "§6.4 IsString"),
    // --- String functions ---------------------------------------------------------------------
    (r#"Append([userPrincipalName], ".test")"#, r#"{"userPrincipalName": "John.Doe@contoso.com"}"#, S("John.Doe@contoso.com.test"), "§6.4 Append doc example"),
    (r#"Append([userPrincipalName], ".test")"#, r#"{}"#, Null, "§6.4 Append null source (choice 8)"),
    (r#"Append(Mid([givenName], 1, 3), Mid([surname], 1, 5))"#, r#"{"givenName": "John", "surname": "Doe"}"#, S("JohDoe"), "FUNC examples: alias"),
    (r#"Join(", ", "", [surname], [givenName])"#, r#"{"givenName": "John", "surname": "Doe"}"#, S("Doe, John"), "§6.4 Join skips empty sources"),
    (r#"Join(";", [proxyAddresses], "x")"#, r#"{"proxyAddresses": ["a", "b"]}"#, S("a;b;x"), "§6.4 Join flattens multi-valued"),
    (r#"Join(",", [a], [b])"#, r#"{}"#, S(""), "§6.4 Join all null (choice 6)"),
    (r#"Left("John Doe", 3)"#, r#"{}"#, S("Joh"), "§6.4 Left doc example"),
    (r#"Left("John Doe", 0)"#, r#"{}"#, S(""), "§6.4 Left 0"),
    (r#"Left("John Doe", -1)"#, r#"{}"#, S("John Doe"), "§6.4 Left negative"),
    (r#"Left([missing], 3)"#, r#"{}"#, S(""), "§6.4 Left null string"),
    (r#"Left("Jo", 30)"#, r#"{}"#, S("Jo"), "§6.4 Left shorter string"),
    (r#"Mid("John", 2, 10)"#, r#"{}"#, S("ohn"), "§6.4 Mid length past end"),
    (r#"Mid("John", 5, 1)"#, r#"{}"#, S(""), "§6.4 Mid start past end"),
    (r#"Mid("John", 0, 1)"#, r#"{}"#, EvalErr("start must be 1 or greater"), "§6.4 Mid 1-based"),
    (r#"Word("The quick brown fox",3," ")"#, r#"{}"#, S("brown"), "§6.4 Word doc example"),
    (r#"Word("This,string!has&many separators",3,",!&#")"#, r#"{}"#, S("has"), "§6.4 Word doc example 2"),
    (r#"Word("The quick",0," ")"#, r#"{}"#, S(""), "§6.4 Word number < 1"),
    (r#"Word("The quick",3," ")"#, r#"{}"#, S(""), "§6.4 Word too few words"),
    (r#"Word([missing],1," ")"#, r#"{}"#, S(""), "§6.4 Word null string"),
    (r#"InStr("The quick brown fox","quick")"#, r#"{}"#, S("5"), "§6.4 InStr doc example"),
    (r#"InStr("repEated","e",3,vbBinaryCompare)"#, r#"{}"#, S("7"), "§6.4 InStr doc example 2"),
    (r#"InStr("repEated","e",3,vbTextCompare)"#, r#"{}"#, S("4"), "§6.4 InStr text compare"),
    (r#"InStr("abc","z")"#, r#"{}"#, S("0"), "§10.9 InStr not found → 0 (choice 5)"),
    (r#"PCase([lastName]," '-")"#, r#"{"lastName": "PINTO-DE'SILVA"}"#, S("Pinto-De'Silva"), "§6.4 PCase with separators"),
    (r#"PCase([firstName])"#, r#"{"firstName": "PABLO GONSALVES (SECOND)"}"#, S("Pablo Gonsalves (Second)"), "FUNC PCase default separators"),
    (r#"PCase(Join(" ",[firstName],[lastName]))"#, r#"{"firstName": "GREGORY", "lastName": "JAMES"}"#, S("Gregory James"), "FUNC PCase + Join"),
    (r#"StripSpaces(" a b  c ")"#, r#"{}"#, S("abc"), "§6.4 StripSpaces"),
    (r#"ToUpper("straße", "en-US")"#, r#"{}"#, S("STRASSE"), "§6.4 ToUpper culture accepted"),
    (r#"ToUpper("istanbul", "tr-TR")"#, r#"{}"#, S("İSTANBUL"), "§6.4 ToUpper Turkish culture"),
    (r#"ToLower(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"))"#, r#"{"PreferredFirstName": "John", "PreferredLastName": "Smith"}"#, S("john.smith@contoso.com"), "FUNC ToLower example"),
    (r#"NormalizeDiacritics([givenName])"#, r#"{"givenName": "Zoë"}"#, S("Zoe"), "§6.4 NormalizeDiacritics doc example"),
    (r#"NormalizeDiacritics("äæøßÆŁŽ")"#, r#"{}"#, S("aaeoessAELZ"), "§6.4 NormalizeDiacritics table"),
    (r#"NormalizeDiacritics("ā́c̄u̇̄œ̄")"#, r#"{}"#, S("acuoe"), "FUNC table: decomposed entries"),
    (r#"NormalizeDiacritics("Jéssica Smith")"#, r#"{}"#, S("Jessica Smith"), "FUNC SelectUniqueValue note"),
    (r#"ConvertToBase64("Hello world!")"#, r#"{}"#, S("SABlAGwAbABvACAAdwBvAHIAbABkACEA"), "§6.4 ConvertToBase64 doc example"),
    (r#"ConvertToUTF8Hex("Hello world!")"#, r#"{}"#, S("48656C6C6F20776F726C6421"), "§6.4 ConvertToUTF8Hex doc example"),
    (r#"CStr([n])"#, r#"{"n": 42}"#, S("42"), "§6.4 CStr number"),
    (r#"CStr([b])"#, r#"{"b": true}"#, S("True"), "§6.3 CStr boolean"),
    (r#"BitAnd(&HF, &HF7)"#, r#"{}"#, S("7"), "§6.4 BitAnd doc example"),
    (r#"Redact([userPrincipalName])"#, r#"{"userPrincipalName": "u@x"}"#, S("u@x"), "§6.4 Redact flows value"),
    // --- Multi-valued -------------------------------------------------------------------------
    (r#"Split([extensionAttribute5], ",")"#, r#"{"extensionAttribute5": "PermissionSetOne, PermissionSetTwo"}"#, M(&["PermissionSetOne", "PermissionSetTwo"]), "§6.4 Split doc example (choice 2)"),
    (r#"Split([x], ",")"#, r#"{}"#, Null, "§6.4 Split null"),
    (r#"Count([proxyAddresses])"#, r#"{"proxyAddresses": ["a", "b", "c"]}"#, S("3"), "§6.4 Count"),
    (r#"Count([proxyAddresses])"#, r#"{}"#, S("0"), "§6.4 Count absent"),
    (r#"Item([proxyAddresses], 1)"#, r#"{"proxyAddresses": ["a", "b"]}"#, S("a"), "§6.4 Item 1-based"),
    (r#"Item([proxyAddresses], 0)"#, r#"{"proxyAddresses": ["a", "b"]}"#, Null, "§6.4 Item index 0"),
    (r#"Item([proxyAddresses], 3)"#, r#"{"proxyAddresses": ["a", "b"]}"#, Null, "§6.4 Item out of range"),
    (r#"RemoveDuplicates([proxyAddresses])"#, r#"{"proxyAddresses": ["a", "b", "a"]}"#, M(&["a", "b"]), "§6.4 RemoveDuplicates"),
    (r#"ToUpper([proxyAddresses])"#, r#"{"proxyAddresses": ["a", "b"]}"#, EvalErr("multi-valued"), "§6.3 multi in string position (choice 9)"),
    (r#"SingleAppRoleAssignment([appRoleAssignments])"#, r#"{"appRoleAssignments": [{"id": "06b0", "value": "25", "displayName": "Role1234"}]}"#, S(r#"{"id":"06b0","value":"25","displayName":"Role1234"}"#), "CUST role PATCH text (choice 12)"),
    (r#"AppRoleAssignmentsComplex([appRoleAssignments])"#, r#"{"appRoleAssignments": ["Admin"]}"#, M(&[r#"{"id":"aae1c70e-168b-85b4-a8b7-3188e41e9120","value":"Admin","displayName":"Admin"}"#]), "CUST role PATCH text (choice 12)"),
    // --- Replace ------------------------------------------------------------------------------
    (r#"Replace([BusinessTitle],"Product Developer", , , "Software Engineer", , )"#, r#"{"BusinessTitle": "Product Developer"}"#, S("Software Engineer"), "FUNC Replace example 1"),
    (r#"Replace([UserID],"<username>", , , , , "<username>@contoso.com")"#, r#"{"UserID": "jsmith"}"#, S("jsmith@contoso.com"), "FUNC Replace example 2"),
    (r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", , "${phoneNumber}", , )"#, r#"{"telephoneNumber": "+91 9998887777"}"#, S("9998887777"), "FUNC Replace example 3"),
    (r#"Replace([mobile], , "[()\\s-]+", , "", , )"#, r#"{"mobile": "+1 (999) 888-7777"}"#, S("+19998887777"), "FUNC Replace example 3b (doc shows the + dropped; the pattern keeps it)"),
    (r#"Replace([AddressLineData], ,"(?<streetNumber>^\\d*)","streetNumber", "888", , )"#, r#"{"AddressLineData": "545 Tremont Street"}"#, S("888 Tremont Street"), "FUNC Replace example 4"),
    (r#"Replace([userPrincipalName], , "(?<Suffix>@(.)*)", "Suffix", "", , )"#, r#"{"userPrincipalName": "jsmith@contoso.com"}"#, S("jsmith"), "FUNC Replace example 4b"),
    (r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#, r#"{"telephoneNumber": "", "mobile": "+91 8887779999"}"#, S("8887779999"), "FUNC Replace example 5"),
    (r#"Replace([telephoneNumber], , "\\+(?<isdCode>\\d* )(?<phoneNumber>\\d{10})", "phoneNumber" , , [mobile], )"#, r#"{"telephoneNumber": "+1 5550001111", "mobile": "+91 8887779999"}"#, S("+1 5550001111"), "FUNC Replace example 5, source present"),
    (r#"Replace([mailNickname], , "[a-zA-Z_]*", , "", , )"#, r#"{"mailNickname": "john_doe72"}"#, S("72"), "FUNC Replace example 6"),
    (r#"Replace([mail], "@contoso.com", , ,"", ,)"#, r#"{"mail": "john.doe@contoso.com"}"#, S("john.doe"), "FUNC examples: strip domain"),
    (r#"Replace([preferredLanguage], "-", , , "_", , )"#, r#"{"preferredLanguage": "en-US"}"#, S("en_US"), "§6.2 G-PARSE example"),
    (r#"Replace([x], , "(", , "y", , )"#, r#"{"x": "a"}"#, EvalErr("invalid regexPattern"), "§6.4 bad regex is an eval error"),
    // --- Dates --------------------------------------------------------------------------------
    (r#"CDate([StatusHireDate])"#, r#"{"StatusHireDate": "2020-03-16-07:00"}"#, S("3/16/2020 7:00:00 AM"), "§6.4 CDate example 1"),
    (r#"CDate("2021-06-30+08:00")"#, r#"{}"#, S("6/29/2021 4:00:00 PM"), "FUNC CDate example 2"),
    (r#"CDate("2009-06-15T01:45:30-07:00")"#, r#"{}"#, S("6/15/2009 8:45:30 AM"), "§6.4 CDate example 3"),
    (r#"DateAdd("d", 7, CDate([StatusHireDate]))"#, r#"{"StatusHireDate": "2012-03-16-07:00"}"#, S("3/23/2012 7:00:00 AM"), "§6.4 DateAdd table"),
    (r#"DateAdd("d", -10, CDate("2012-03-16-07:00"))"#, r#"{}"#, S("3/6/2012 7:00:00 AM"), "FUNC DateAdd table"),
    (r#"DateAdd("ww", 2, CDate("2012-03-16-07:00"))"#, r#"{}"#, S("3/30/2012 7:00:00 AM"), "FUNC DateAdd table"),
    (r#"DateAdd("m", 10, CDate("2012-03-16-07:00"))"#, r#"{}"#, S("1/16/2013 7:00:00 AM"), "FUNC DateAdd table"),
    (r#"DateAdd("yyyy", 2, CDate("2012-03-16-07:00"))"#, r#"{}"#, S("3/16/2014 7:00:00 AM"), "FUNC DateAdd table"),
    (r#"DateDiff("d", CDate("2021-08-18+08:00"), CDate("2021-08-31+08:00"))"#, r#"{}"#, S("13"), "§6.4 DateDiff table d"),
    (r#"DateDiff("d", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))"#, r#"{}"#, S("-3449"), "FUNC DateDiff table d negative"),
    (r#"DateDiff("ww", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))"#, r#"{}"#, S("-493"), "§6.4 DateDiff table ww"),
    (r#"DateDiff("m", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))"#, r#"{}"#, S("-113"), "§6.4 DateDiff table m"),
    (r#"DateDiff("yyyy", "8/25/2021 5:41:18 PM", CDate("2012-03-16-07:00"))"#, r#"{}"#, S("-9"), "§6.4 DateDiff table yyyy"),
    (r#"DateDiff("d", "2021-08-31+08:00", "2021-08-31+08:00")"#, r#"{}"#, S("0"), "§6.4 DateDiff equal"),
    (r#"DateDiff("h", "2021-08-24", "2021-08-25")"#, r#"{}"#, S("24"), "§6.4 DateDiff table h"),
    (r#"DateDiff("n", "2021-08-24", "2021-08-25")"#, r#"{}"#, S("1440"), "§6.4 DateDiff table n"),
    (r#"DateDiff("s", "2021-08-24", "2021-08-25")"#, r#"{}"#, S("86400"), "§6.4 DateDiff table s"),
    (r#"DateFromNum(129699324000000000)"#, r#"{}"#, S("1/1/2012 11:00:00 PM"), "§6.4 DateFromNum doc example"),
    (r#"NumFromDate("2012-01-01T23:00:00Z")"#, r#"{}"#, S("129699324000000000"), "§6.4 NumFromDate inverse"),
    (r#"NumFromDate(Join("", FormatDateTime([ContractEndDate], ,"yyyy-MM-ddzzz", "yyyy-MM-dd"), " 23:59:59-08:00"))"#, r#"{"ContractEndDate": "2020-12-31-08:00"}"#, S("132539615990000000"), "FUNC NumFromDate Workday example"),
    (r#"FormatDateTime([extensionAttribute1], , "yyyyMMddHHmmss.fZ", "yyyy-MM-dd")"#, r#"{"extensionAttribute1": "20150123105347.1Z"}"#, S("2015-01-23"), "§6.4 FormatDateTime doc example"),
    (r#"FormatDateTime([endDate], ,"M/d/yyyy hh:mm:ss tt","yyyy-MM-dd")"#, r#"{"endDate": "7/4/2021 09:30:00 PM"}"#, S("2021-07-04"), "FUNC NumFromDate SuccessFactors format"),
    (r#"FormatDateTime([d], , "yyyy-MM-dd", "dddd, MMMM d yyyy")"#, r#"{"d": "2021-07-02"}"#, S("Friday, July 2 2021"), "§6.4 FormatDateTime names"),
    (r#"FormatDateTime([d], , "yyyy-MM-dd", "yyyy-MM-dd")"#, r#"{"d": "July 2"}"#, EvalErr("doesn't match"), "§6.4 FormatDateTime mismatch"),
    (r#"Now()"#, r#"{}"#, S("7/2/2021 3:33:38 PM"), "§6.4 Now format"),
    (r#"CDate([x])"#, r#"{"x": "not a date"}"#, EvalErr("not a date"), "§6.4 CDate garbage"),
    // --- Flow control / misc ------------------------------------------------------------------
    (r#"IgnoreFlowIfNullOrEmpty([department])"#, r#"{"department": ""}"#, Ignore, "§6.4 IgnoreFlowIfNullOrEmpty"),
    (r#"IgnoreFlowIfNullOrEmpty([department])"#, r#"{"department": "Sales"}"#, S("Sales"), "§6.4 IgnoreFlowIfNullOrEmpty passes values"),
    (r#"IgnoreFlowIfNullOrEmpty(Switch([prefix], "", "3443", "Dr.", "3444", "Prof.", "3445", "Prof. Dr."))"#, r#"{"prefix": "9"}"#, Ignore, "FUNC IgnoreFlowIfNullOrEmpty example 2"),
    (r#"SelectUniqueValue(Join("@", NormalizeDiacritics(StripSpaces(Join(".",  [PreferredFirstName], [PreferredLastName]))), "contoso.com"), Join("@", NormalizeDiacritics(StripSpaces(Join(".",  Mid([PreferredFirstName], 1, 1), [PreferredLastName]))), "contoso.com"))"#, r#"{"PreferredFirstName": "John", "PreferredLastName": "Smith"}"#, S("John.Smith@contoso.com"), "§6.4 SelectUniqueValue → first rule (choice 13)"),
    (r#"[mail]"#, r#"{"mail": "a@b"}"#, S("a@b"), "§6.1 bare attribute"),
    (r#""constant""#, r#"{}"#, S("constant"), "§6.1 string constant"),
    (r#""Company name: \"Contoso\" \\ x""#, r#"{}"#, S(r#"Company name: "Contoso" \ x"#), "§6.1 escapes"),
    (r#"[Facsimile-TelephoneNumber]"#, r#"{"Facsimile-TelephoneNumber": "+1 555"}"#, S("+1 555"), "§6.1 attribute names with '-'"),
    (r#"Join("", 1000, "x")"#, r#"{}"#, S("1000x"), "§6.1 integer constants are strings"),
    (r#"  Append ( [a] ,  "b" )  "#, r#"{"a": "a"}"#, S("ab"), "§6.1 whitespace anywhere"),
    (r#"RandomString(300,1,1,1,1)"#, r#"{}"#, EvalErr("at most 256"), "§6.4 RandomString max 256"),
    // --- Parse errors (column) ----------------------------------------------------------------
    (r#"Swtich([a], , "x", "y")"#, r#"{}"#, ParseAt(1), "§6.1 unknown function"),
    (r#"switch([a], , "x", "y")"#, r#"{}"#, ParseAt(1), "§6.1 names are case-sensitive"),
    (r#"Not([a] "x")"#, r#"{}"#, ParseAt(9), "§6.1 missing comma"),
    (r#"Left([a])"#, r#"{}"#, ParseAt(1), "§6.4 Left arity"),
    (r#"Append([a], "x""#, r#"{}"#, ParseAt(16), "§6.1 missing ')'"),
    (r#"Append([a] = "x", "y")"#, r#"{}"#, ParseAt(12), "§6.1 comparison only in IIF/CBool"),
    (r#"IIF([a] = "x" = "y", "1", "2")"#, r#"{}"#, ParseAt(15), "§6.1 no chained comparisons / AND/OR"),
    (r#"Join(",", SelectUniqueValue([a],[b]))"#, r#"{}"#, ParseAt(11), "§6.1 SelectUniqueValue must be top-level"),
    (r#""a\d""#, r#"{}"#, ParseAt(3), "§6.1 only \\\\ and \\\" escapes"),
    (r#"[mail"#, r#"{}"#, ParseAt(1), "§6.1 unterminated attribute"),
    (r#"Append("abc, [x])"#, r#"{}"#, ParseAt(8), "§6.1 unterminated string"),
    (r#"[a b]"#, r#"{}"#, ParseAt(3), "§6.1 bad attribute character"),
    (r#"True"#, r#"{}"#, ParseAt(1), "§6.1 bare name"),
    (r#""#, r#"{}"#, ParseAt(1), "§6.1 empty expression"),
    (r#"[a] [b]"#, r#"{}"#, ParseAt(5), "§6.1 trailing input"),
    (r#"Mid([a], , 3)"#, r#"{}"#, ParseAt(1), "§6.4 required argument empty"),
    (r#"BitAnd(&HZ, 1)"#, r#"{}"#, ParseAt(8), "§6.1 hex digits"),
];

fn run_case(src_expr: &str, src_json: &str, want: &Want) -> Result<(), String> {
    let parsed = parse(src_expr);
    if let ParseAt(col) = want {
        return match parsed {
            Err(e) if e.column == *col => Ok(()),
            Err(e) => Err(format!("wrong column: {e}")),
            Ok(x) => Err(format!("parsed unexpectedly: {x:?}")),
        };
    }
    let expr = parsed.map_err(|e| format!("parse error: {e}"))?;
    let got = evaluate_outcome(&expr, &obj(src_json), &ctx());
    let ok = match (want, &got) {
        (S(s), Ok(Outcome::Value(Value::Str(g)))) => s == g,
        (M(m), Ok(Outcome::Value(Value::Multi(g)))) => m.iter().eq(g.iter()),
        (Null, Ok(Outcome::Value(Value::Null))) => true,
        (Ignore, Ok(Outcome::IgnoreFlow)) => true,
        (EvalErr(t), Err(e)) => e.message.contains(t),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("want {want:?}, got {got:?}"))
    }
}

#[test]
fn golden_vectors() {
    assert!(CASES.len() >= 80, "only {} cases", CASES.len());
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|(e, s, w, cite)| {
            run_case(e, s, w)
                .err()
                .map(|m| format!("[{cite}] {e}\n    {m}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn parse_error_messages() {
    let msg = |s: &str| parse(s).map(|_| ()).unwrap_err().to_string();
    assert_eq!(
        msg(r#"Not([a] "x")"#),
        r#"column 9: expected ',' or ')' after argument, found '"'"#
    );
    assert_eq!(
        msg(r#"Swtich([a], , "x", "y")"#),
        r#"column 1: unknown function "Swtich"; did you mean "Switch"?"#
    );
    assert_eq!(
        msg(r#"switch([a], , "x", "y")"#),
        r#"column 1: unknown function "switch"; did you mean "Switch"?"#
    );
    assert_eq!(
        msg("Left([a])"),
        "column 1: Left expects 2 arguments, got 1"
    );
    assert_eq!(
        msg(r#"Switch([a], , "x")"#),
        "column 1: Switch expects an even number of arguments (source, defaultValue, then key/value pairs), got 3"
    );
    let long = format!("\"{}\"", "x".repeat(MAX_EXPRESSION_CHARS));
    let e = parse(&long).unwrap_err();
    assert_eq!(e.column, MAX_EXPRESSION_CHARS + 1);
    assert!(e.message.contains("at most 10000"), "{e}");
    // Exactly at the limit is fine.
    assert!(parse(&format!("\"{}\"", "x".repeat(MAX_EXPRESSION_CHARS - 2))).is_ok());
}

#[test]
fn ast_shape_and_attributes() {
    let e = parse(r#"Replace([preferredLanguage], "-", , , "_", , )"#).unwrap();
    let ExprKind::Call { function, args } = &e.kind else {
        panic!("not a call: {e:?}");
    };
    assert_eq!(*function, Function::Replace);
    assert_eq!(args.len(), 7);
    assert_eq!(args.iter().filter(|a| a.is_none()).count(), 4);
    let e = parse(r#"IIF([country]="USA",Coalesce([mail],[country]),[department])"#).unwrap();
    assert_eq!(e.attributes(), vec!["country", "mail", "department"]);
    // Display round-trips.
    let again = parse(&e.to_string()).unwrap();
    assert_eq!(again.to_string(), e.to_string());
    let e = parse(r#"BitAnd(&HF, &HF7)"#).unwrap();
    assert_eq!(e.to_string(), "BitAnd(&HF, &HF7)");
}

#[test]
fn deterministic_random_functions() {
    let src = Map::new();
    let g = parse("Guid()").unwrap();
    let a = evaluate(&g, &src, &ctx()).unwrap();
    let b = evaluate(&g, &src, &ctx()).unwrap();
    assert_eq!(a, b);
    let Value::Str(s) = a else { panic!() };
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4", "a v4 UUID: {s}");

    let r = parse(r#"RandomString(10,2,2,2,1,"?,")"#).unwrap();
    let Value::Str(s) = evaluate(&r, &src, &ctx()).unwrap() else {
        panic!()
    };
    assert_eq!(s.chars().count(), 10);
    assert!(s.chars().filter(char::is_ascii_digit).count() >= 2);
    assert!(s.chars().filter(char::is_ascii_uppercase).count() >= 2);
    assert!(s.chars().filter(char::is_ascii_lowercase).count() >= 1);
    assert!(s.chars().filter(|c| !c.is_ascii_alphanumeric()).count() >= 2);
    assert!(!s.contains('?') && !s.contains(','));
    // Unseeded: still well-formed.
    let free = EvalContext::default();
    let Value::Str(s) = evaluate(&parse("RandomString(6,3,0,0,3)").unwrap(), &src, &free).unwrap()
    else {
        panic!()
    };
    assert_eq!(s.len(), 6);
}

fn mapping(target: &str, src: &str) -> AttributeMapping {
    AttributeMapping {
        target: target.to_string(),
        source: AttributeMapping::parse_source(src).unwrap(),
        default_value: None,
        apply: ApplyOn::Always,
        matching_precedence: None,
    }
}

#[test]
fn parse_source_shorthand() {
    assert_eq!(
        AttributeMapping::parse_source("mail").unwrap(),
        MappingSource::Direct("mail".into())
    );
    assert_eq!(
        AttributeMapping::parse_source(" Facsimile-TelephoneNumber ").unwrap(),
        MappingSource::Direct("Facsimile-TelephoneNumber".into())
    );
    assert!(matches!(
        AttributeMapping::parse_source("[mail]").unwrap(),
        MappingSource::Expression(_)
    ));
    assert!(matches!(
        AttributeMapping::parse_source("\"x\"").unwrap(),
        MappingSource::Expression(_)
    ));
    let e = AttributeMapping::parse_source("  Swtich([a], , \"x\", \"y\")").unwrap_err();
    assert_eq!(e.column, 3, "columns count the user's leading spaces");
}

/// The vendor guide's user mappings (seed 003): mail → userName, Switch(...) → active,
/// displayName → displayName.
#[test]
fn vendor_user_mappings() {
    let maps = vec![
        mapping("userName", "mail"),
        mapping(
            "active",
            r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
        ),
        mapping("displayName", "displayName"),
    ];
    let c = ctx();
    let user = obj(r#"{"mail": "ada@example.com", "IsSoftDeleted": false, "displayName": "Ada"}"#);
    let out = evaluate_mappings(&maps, &user, Operation::Create, &c).unwrap();
    assert_eq!(
        out,
        vec![
            ("userName".into(), Value::str("ada@example.com")),
            ("active".into(), Value::str("True")),
            ("displayName".into(), Value::str("Ada")),
        ]
    );
    let gone = obj(r#"{"mail": "ada@example.com", "IsSoftDeleted": true}"#);
    let out = evaluate_mappings(&maps, &gone, Operation::Update, &c).unwrap();
    assert_eq!(
        out,
        vec![
            ("userName".into(), Value::str("ada@example.com")),
            ("active".into(), Value::str("False")),
        ],
        "null displayName is not flowed"
    );
    // Absent IsSoftDeleted: the empty Switch default is null, so active is not flowed.
    let out = evaluate_mappings(&maps, &obj(r#"{"mail": "a"}"#), Operation::Create, &c).unwrap();
    assert_eq!(out, vec![("userName".into(), Value::str("a"))]);
}

#[test]
fn mapping_semantics() {
    let c = ctx();
    let mut with_default = mapping("title", "jobTitle");
    with_default.default_value = Some("Employee".into());
    let mut create_only = mapping("externalId", "objectId");
    create_only.apply = ApplyOn::CreateOnly;
    let mut ignore = mapping("department", "IgnoreFlowIfNullOrEmpty([department])");
    ignore.default_value = Some("none".into());
    let constant = AttributeMapping {
        target: "locale".into(),
        source: MappingSource::Constant("en-US".into()),
        default_value: None,
        apply: ApplyOn::Always,
        matching_precedence: Some(2),
    };
    let mut matcher = mapping("userName", "userPrincipalName");
    matcher.matching_precedence = Some(1);
    let maps = vec![with_default, create_only, ignore, constant, matcher];
    let src = obj(r#"{"objectId": "o1", "department": "", "userPrincipalName": "u"}"#);

    let create = evaluate_mappings(&maps, &src, Operation::Create, &c).unwrap();
    assert_eq!(
        create,
        vec![
            ("title".into(), Value::str("Employee")),
            ("externalId".into(), Value::str("o1")),
            ("locale".into(), Value::str("en-US")),
            ("userName".into(), Value::str("u")),
        ]
    );
    let update = evaluate_mappings(&maps, &src, Operation::Update, &c).unwrap();
    assert_eq!(
        update,
        vec![
            ("locale".into(), Value::str("en-US")),
            ("userName".into(), Value::str("u")),
        ],
        "defaults are create-only; CreateOnly mappings skip updates"
    );
    // "" is a value: it flows and the default does not replace it.
    let empty = obj(r#"{"jobTitle": ""}"#);
    let out = evaluate_mappings(&maps[..1], &empty, Operation::Create, &c).unwrap();
    assert_eq!(out, vec![("title".into(), Value::str(""))]);

    let order: Vec<&str> = matching_order(&maps)
        .iter()
        .map(|m| m.target.as_str())
        .collect();
    assert_eq!(order, vec!["userName", "locale"]);

    // Evaluation errors name the target.
    let bad = vec![mapping("x", r#"Mid([a], 0, 1)"#)];
    let e = evaluate_mappings(&bad, &obj(r#"{"a": "abc"}"#), Operation::Create, &c).unwrap_err();
    assert!(e.message.starts_with("x: Mid:"), "{e}");
}

#[test]
fn source_conversion() {
    let src =
        obj(r#"{"b": false, "n": 1.5, "a": [1, true, null, "x", {"k": 1}], "e": [], "z": null}"#);
    let c = ctx();
    let ev = |e: &str| evaluate(&parse(e).unwrap(), &src, &c).unwrap();
    assert_eq!(ev("[b]"), Value::str("False"));
    assert_eq!(ev("[n]"), Value::str("1.5"));
    assert_eq!(
        ev("[a]"),
        Value::Multi(vec![
            "1".into(),
            "True".into(),
            "x".into(),
            r#"{"k":1}"#.into()
        ])
    );
    assert_eq!(ev("[e]"), Value::Null);
    assert_eq!(ev("[z]"), Value::Null);
    assert_eq!(ev("[missing]"), Value::Null);
}

/// Random garbage never panics the parser or evaluator.
#[test]
fn fuzz_no_panics() {
    use rand::{Rng, SeedableRng};
    let alphabet: Vec<char> =
        "()[],\"\\&H=<>- 0123456789abcSwitchJoinIIFMidReplace\u{e9}\u{0301}vbTextCompare.\n"
            .chars()
            .collect();
    let seeds = [
        r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#,
        r#"Replace([x], , "(?<a>\\d+)", "a", "z", , )"#,
        r#"IIF([a]>=[b],Mid([a],1,2),Word([b],2," "))"#,
        r#"FormatDateTime([d], , "yyyy-MM-ddzzz", "dddd MMM fffffff K")"#,
        r#"DateAdd("yyyy", 9999, CDate([d]))"#,
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let src = obj(
        r#"{"a": "12", "b": "x y", "x": "a1b22", "d": "2020-01-01-08:00", "IsSoftDeleted": "True"}"#,
    );
    let c = ctx();
    for i in 0..4000 {
        let s: String = if i % 2 == 0 {
            let len = rng.gen_range(0..40);
            (0..len)
                .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
                .collect()
        } else {
            // Mutate a valid expression.
            let mut chars: Vec<char> = seeds[rng.gen_range(0..seeds.len())].chars().collect();
            for _ in 0..rng.gen_range(1..4) {
                let at = rng.gen_range(0..=chars.len());
                if rng.gen_bool(0.5) && at < chars.len() {
                    chars.remove(at);
                } else {
                    chars.insert(at, alphabet[rng.gen_range(0..alphabet.len())]);
                }
            }
            chars.into_iter().collect()
        };
        if let Ok(e) = parse(&s) {
            let _ = evaluate(&e, &src, &c);
        } else if let Err(e) = parse(&s) {
            assert!(
                e.column >= 1 && e.column <= s.chars().count() + 1,
                "{s:?}: {e}"
            );
        }
    }
    // Extreme arguments.
    for e in [
        "Left(\"abc\", -9223372036854775808)",
        "Mid(\"abc\", 9223372036854775807, 9223372036854775807)",
        "Word(\"a b\", -9223372036854775808, \" \")",
        "Item([a], 9223372036854775807)",
        "DateAdd(\"yyyy\", 9223372036854775807, \"2020-01-01\")",
        "DateAdd(\"s\", -9223372036854775808, \"2020-01-01\")",
        "DateAdd(\"m\", 9223372036854775807, \"2020-01-01\")",
        "DateFromNum(\"-170141183460469231731687303715884105728\")",
        "RandomString(256, 9223372036854775807, 9223372036854775807, 1, 1)",
        "CDate(\"\u{0661}\u{0662}\u{0663}\u{0664}-01-01+\u{0661}\u{0662}\u{0663}\u{0664}\")",
        "DateFromNum(\"-99999999999999999999\")",
        "InStr(\"abc\", \"c\", 9223372036854775807)",
        "RandomString(256, 0, 0, 0, 0, \"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\")",
        "FormatDateTime(\"99999999999999\", , \"yyyyMMddHHmmss\", \"yyyy\")",
    ] {
        let _ = evaluate(&parse(e).unwrap(), &src, &c);
    }
}

/// An evaluation error names the column of the innermost call that failed, and attribute
/// references keep their columns: what `idpsim expr` points at.
#[test]
fn evaluation_errors_and_attributes_carry_columns() {
    let src = obj(r#"{"a": "abc", "m": ["x", "y"]}"#);
    let e = parse(r#"Append(Mid([a], 0, 1), "x")"#).unwrap();
    let err = evaluate(&e, &src, &ctx()).unwrap_err();
    assert_eq!(err.column, Some(8), "{err:?}");
    assert!(err.message.starts_with("Mid:"), "{err}");
    let e = parse(r#"Join(",", ToLower(ToUpper([m])))"#).unwrap();
    let err = evaluate(&e, &src, &ctx()).unwrap_err();
    assert_eq!(err.column, Some(19), "the innermost call, ToUpper: {err:?}");
    let e = parse(r#"Coalesce([b], [a], [b])"#).unwrap();
    assert_eq!(
        e.attribute_refs(),
        vec![("b".to_string(), 10), ("a".to_string(), 15)]
    );
    assert_eq!(
        closest("givneName", ["surname", "givenName"]),
        Some("givenName")
    );
    assert_eq!(closest("department", ["surname", "givenName"]), None);
}
