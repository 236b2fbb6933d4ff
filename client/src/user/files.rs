//! Files in and out of a record: a FHIR bundle and attachments on `store`,
//! a FHIR bundle and attachment files on `show` and `decrypt`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Serialize;
use serde_json::{json, Value};
use solana_sdk::pubkey::Pubkey;

use crate::blobs::BlobStore;
use crate::contents::{Attachment, Contents, FhirEntry};
use crate::error::{ClientError, Result};
use crate::user::Client;

/// The bidirectional formatting characters (marks, embeddings, overrides,
/// isolates).
pub fn is_bidi_format(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// How an attachment moved off-chain is named in a FHIR `Attachment.url`
/// until the recipient saves it: `medshare-attachment:<sha256 of the blob>`.
pub const ATTACHMENT_URL: &str = "medshare-attachment:";

/// Hex digits of a blob's hash in the id of the DocumentReference made for
/// an attached file (64 bits), and in its `urn:uuid:` full URL (128 bits).
const DOCUMENT_ID_HEX: usize = 16;
const DOCUMENT_URN_HEX: usize = 32;

/// A name safe to create inside an output directory and to print: the last
/// path component, without leading dots, control characters or
/// bidirectional formatting characters (a name like `gpj.exe` written
/// backwards); `fallback` if nothing is left.
pub fn safe_name(name: &str, fallback: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last
        .trim_start_matches('.')
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_format(*c))
        .collect();
    if clean.is_empty() {
        fallback.to_string()
    } else {
        clean
    }
}

/// A MIME type from a file name's extension (the common clinical ones).
pub fn content_type_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit('.').next()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "dcm" => "application/dicom",
        "zip" => "application/zip",
        _ => return None,
    })
}

/// Largest JSON file `store` reads (a bundle, a record file), after
/// decompression: 256 MiB.
pub const MAX_JSON_INPUT: u64 = 256 << 20;

/// Reads a JSON file `store` takes (`what` says which, for the messages):
/// plain, or gzip-compressed (recognised by its first two bytes, whatever
/// the file's name), at most [`MAX_JSON_INPUT`] bytes of text.
pub fn read_json_input(path: &Path, what: &str) -> Result<String> {
    use std::io::Read;
    let failed = |why: String| ClientError::Io(format!("{}: {why}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| failed(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_JSON_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .take(MAX_JSON_INPUT + 1)
            .read_to_end(&mut plain)
            .map_err(|e| failed(format!("gzip-compressed, but it does not decompress ({e})")))?;
        bytes = plain;
    }
    if bytes.len() as u64 > MAX_JSON_INPUT {
        return Err(failed(format!("over {} MiB of JSON", MAX_JSON_INPUT >> 20)));
    }
    String::from_utf8(bytes).map_err(|_| failed(format!("not text ({what} is expected)")))
}

/// Reads a FHIR bundle for `record`, moving every inline attachment's
/// `data` off-chain (sealed into `blobs`) and listing it in `out`.
pub async fn import_fhir(
    path: &Path,
    record: &Pubkey,
    blobs: &BlobStore,
    out: &mut Contents,
) -> Result<()> {
    let text = read_json_input(path, "a FHIR JSON Bundle")?;
    let mut entries = medshare_fhir::import(&text)
        .map_err(|e| ClientError::BadFhir(format!("{}: {e}", path.display())))?;
    for (i, entry) in entries.iter_mut().enumerate() {
        let kind = entry.resource_type().to_string();
        for ptr in medshare_fhir::inline_attachments(&entry.resource) {
            let attachment = entry
                .resource
                .pointer_mut(&ptr)
                .and_then(Value::as_object_mut)
                .expect("the pointer was just found");
            let data = attachment
                .remove("data")
                .expect("an inline attachment has data");
            let bytes = zeroize::Zeroizing::new(
                base64::engine::general_purpose::STANDARD
                    .decode(data.as_str().unwrap_or_default())
                    .map_err(|err| {
                        ClientError::BadFhir(format!(
                            "{}: Bundle.entry[{i}].resource{}.data: not base64 ({err})",
                            path.display(),
                            ptr.replace('/', ".")
                        ))
                    })?,
            );
            let blob = blobs.put_bytes(record, &bytes).await?;
            let content_type = attachment
                .get("contentType")
                .and_then(Value::as_str)
                .map(str::to_string);
            let fallback = format!("{kind}-{i}{}", ptr.replace('/', "-"));
            let name = safe_name(
                attachment
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or(&fallback),
                &fallback,
            );
            attachment.insert(
                "url".into(),
                json!(format!("{ATTACHMENT_URL}{}", blob.sha256)),
            );
            attachment.entry("size").or_insert(json!(blob.size));
            out.attachments.push(Attachment {
                name,
                content_type,
                blob,
            });
        }
    }
    out.fhir.extend(entries);
    Ok(())
}

/// Seals `files` into `blobs` as attachments of `record`. In a FHIR record
/// each also gets a DocumentReference (subject: the bundle's Patient).
pub async fn attach_files(
    files: &[PathBuf],
    record: &Pubkey,
    blobs: &BlobStore,
    out: &mut Contents,
) -> Result<()> {
    let patient = out
        .fhir
        .iter()
        .find(|entry| entry.resource_type() == "Patient")
        .and_then(|entry| entry.full_url.clone().or_else(|| entry.local_ref()));
    for file in files {
        let name = safe_name(&file.to_string_lossy(), "attachment");
        let blob = blobs.put_file(record, file).await?;
        let content_type = content_type_of(&name).map(str::to_string);
        if !out.fhir.is_empty() {
            let mut doc = json!({
                "resourceType": "DocumentReference",
                "id": &blob.sha256[..DOCUMENT_ID_HEX],
                "status": "current",
                "content": [{ "attachment": {
                    "contentType": content_type.clone().unwrap_or_else(|| "application/octet-stream".into()),
                    "title": name,
                    "size": blob.size,
                    "url": format!("{ATTACHMENT_URL}{}", blob.sha256),
                }}],
            });
            if let Some(patient) = &patient {
                doc["subject"] = json!({ "reference": patient });
            }
            out.fhir.push(FhirEntry {
                full_url: Some(format!(
                    "urn:uuid:medshare-{}",
                    &blob.sha256[..DOCUMENT_URN_HEX]
                )),
                resource: doc,
            });
        }
        out.attachments.push(Attachment {
            name,
            content_type,
            blob,
        });
    }
    Ok(())
}

/// An attachment as `show`/`decrypt` report it.
#[derive(Debug, Serialize)]
pub struct SavedAttachment {
    /// Its name.
    pub name: String,
    /// Plaintext bytes.
    pub size: u64,
    /// MIME type, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Where it was written (with `--out-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_to: Option<String>,
}

/// What a record or share holds beyond the simple fields, as reported.
#[derive(Debug, Default, Serialize)]
pub struct Extras {
    /// FHIR resources by type.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub fhir_resources: BTreeMap<String, usize>,
    /// Where the FHIR bundle was written (with `--fhir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fhir_bundle: Option<String>,
    /// Attachments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<SavedAttachment>,
}

impl fmt::Display for Extras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.fhir_resources.is_empty() {
            let n: usize = self.fhir_resources.values().sum();
            let kinds: Vec<String> = self
                .fhir_resources
                .iter()
                .map(|(kind, count)| format!("{kind} {count}"))
                .collect();
            write!(f, "\nFHIR: {n} resources ({})", kinds.join(", "))?;
            if let Some(bundle) = &self.fhir_bundle {
                write!(f, "; bundle written to {bundle}")?;
            }
        }
        for attachment in &self.attachments {
            write!(
                f,
                "\nattachment {} ({} bytes)",
                attachment.name, attachment.size
            )?;
            if let Some(path) = &attachment.saved_to {
                write!(f, " saved to {path}")?;
            }
        }
        Ok(())
    }
}

/// Where `show`/`decrypt` write files.
#[derive(Clone, Debug, Default)]
pub struct OutFiles {
    /// The FHIR bundle's path.
    pub fhir: Option<PathBuf>,
    /// The directory for attachments.
    pub out_dir: Option<PathBuf>,
}

/// Saves the attachments of `record` (with an output directory) and the
/// FHIR bundle (with a path). Nothing is overwritten, and nothing is left
/// behind on failure: every target is checked first, every blob is
/// downloaded, checked and decrypted into a temporary file, the bundle is
/// written to one too, and only then are they renamed into place (a rename
/// that fails removes the files already renamed).
pub async fn save(
    client: &Client,
    record: &Pubkey,
    contents: &Contents,
    out: &OutFiles,
) -> Result<Extras> {
    let mut extras = Extras::default();
    for entry in &contents.fhir {
        *extras
            .fhir_resources
            .entry(entry.resource_type().to_string())
            .or_default() += 1;
    }
    let exists =
        |path: &Path| ClientError::Io(format!("{} exists: not overwritten", path.display()));
    // Targets, checked before anything is fetched.
    let mut targets: Vec<Option<PathBuf>> = vec![None; contents.attachments.len()];
    if let Some(dir) = &out.out_dir {
        let mut taken = std::collections::HashSet::new();
        for (attachment, slot) in contents.attachments.iter().zip(targets.iter_mut()) {
            let mut name = safe_name(&attachment.name, &attachment.blob.sha256);
            if !taken.insert(name.clone()) {
                name = format!("{}-{name}", attachment.blob.short());
                taken.insert(name.clone());
            }
            let target = dir.join(&name);
            if target.exists() {
                return Err(exists(&target));
            }
            *slot = Some(target);
        }
    }
    if let Some(path) = out.fhir.as_ref().filter(|path| path.exists()) {
        return Err(exists(path));
    }
    let created = match &out.out_dir {
        Some(dir) if !dir.is_dir() && !contents.attachments.is_empty() => {
            std::fs::create_dir_all(dir)
                .map_err(|e| ClientError::Io(format!("{}: {e}", dir.display())))?;
            Some(dir.clone())
        }
        _ => None,
    };
    let result = fetch_and_place(client, record, contents, out, &targets).await;
    if result.is_err() {
        if let Some(dir) = created {
            let _ = std::fs::remove_dir(dir);
        }
    }
    let urls = result?;
    for (attachment, target) in contents.attachments.iter().zip(&targets) {
        let saved_to = target
            .as_ref()
            .map(|target| absolute(target).display().to_string());
        extras.attachments.push(SavedAttachment {
            name: attachment.name.clone(),
            size: attachment.blob.size,
            content_type: attachment.content_type.clone(),
            saved_to,
        });
    }
    extras.fhir_bundle = urls
        .then(|| out.fhir.as_ref().map(|path| path.display().to_string()))
        .flatten();
    Ok(extras)
}

/// Downloads every attachment to a temporary file, writes the bundle to
/// one, then renames them all; returns whether a bundle was written.
async fn fetch_and_place(
    client: &Client,
    record: &Pubkey,
    contents: &Contents,
    out: &OutFiles,
    targets: &[Option<PathBuf>],
) -> Result<bool> {
    let mut pending = Vec::new();
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    for (attachment, target) in contents.attachments.iter().zip(targets) {
        let Some(target) = target else { continue };
        let dir = target.parent().unwrap_or(Path::new("."));
        let tmp = client
            .reader(record, &attachment.blob)?
            .get_to_temp(record, &attachment.blob, dir)
            .await?;
        urls.insert(
            format!("{ATTACHMENT_URL}{}", attachment.blob.sha256),
            format!("file://{}", absolute(target).display()),
        );
        pending.push((tmp, target.clone()));
    }
    if let Some(path) = &out.fhir {
        let mut bundle = medshare_fhir::export(&contents.fhir);
        rewrite_urls(&mut bundle, &urls);
        pending.push((
            temp_with(path, &serde_json::to_vec_pretty(&bundle).expect("JSON"))?,
            path.clone(),
        ));
    }
    let mut placed: Vec<PathBuf> = Vec::new();
    for (tmp, target) in pending {
        if let Err(e) = tmp.persist_noclobber(&target) {
            for path in &placed {
                let _ = std::fs::remove_file(path);
            }
            return Err(ClientError::Io(format!(
                "{}: {}",
                target.display(),
                e.error
            )));
        }
        placed.push(target);
    }
    Ok(out.fhir.is_some())
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn rewrite_urls(value: &mut Value, urls: &BTreeMap<String, String>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(url)) = object.get_mut("url") {
                if let Some(to) = urls.get(url.as_str()) {
                    *url = to.clone();
                }
            }
            object
                .values_mut()
                .for_each(|child| rewrite_urls(child, urls));
        }
        Value::Array(array) => array.iter_mut().for_each(|child| rewrite_urls(child, urls)),
        _ => {}
    }
}

/// `bytes` in a temporary file next to `path`.
fn temp_with(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| ClientError::Io(format!("{}: {e}", dir.display())))?;
    tmp.write_all(bytes)
        .map_err(|e| ClientError::Io(format!("{}: {e}", path.display())))?;
    Ok(tmp)
}

/// What a new version of a record does with the attachments of the
/// version it replaces (see [`carry_attachments`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Carried {
    /// Kept: listed in the new version as they were (their blobs stay).
    pub kept: Vec<String>,
    /// Dropped on request (`--drop-attachment`).
    pub dropped: Vec<String>,
    /// Replaced by the new version's own copy: the resource that listed them
    /// is in the new version too (a bundle stored again).
    pub replaced: Vec<String>,
}

/// Carries the attachments of `old` (the version being replaced) into
/// `new`, except those named in `drop`: each with the FHIR resources that
/// refer to it (the `DocumentReference` `--attach` made, or the bundle's own
/// resource), unless the new version has a resource of the same type and
/// id, whose copy then replaces it. So a new version never loses a file
/// the owner did not name. Every name in `drop` must be an attachment of
/// `old` (else the name is returned as the error).
pub fn carry_attachments(
    old: &Contents,
    new: &mut Contents,
    drop: &[String],
) -> std::result::Result<Carried, String> {
    if let Some(missing) = drop
        .iter()
        .find(|name| !old.attachments.iter().any(|a| &a.name == *name))
    {
        return Err(missing.clone());
    }
    let in_new: std::collections::HashSet<String> =
        new.fhir.iter().filter_map(FhirEntry::local_ref).collect();
    let mut carried = Carried::default();
    for attachment in &old.attachments {
        if drop.contains(&attachment.name) {
            carried.dropped.push(attachment.name.clone());
            continue;
        }
        if new
            .attachments
            .iter()
            .any(|a| a.blob.sha256 == attachment.blob.sha256)
        {
            continue;
        }
        let url = format!("{ATTACHMENT_URL}{}", attachment.blob.sha256);
        let holders: Vec<&FhirEntry> = old
            .fhir
            .iter()
            .filter(|entry| refers_to(&entry.resource, &url))
            .collect();
        let superseded = !holders.is_empty()
            && holders
                .iter()
                .all(|entry| entry.local_ref().is_some_and(|r| in_new.contains(&r)));
        if superseded {
            carried.replaced.push(attachment.name.clone());
            continue;
        }
        for entry in holders {
            if !entry.local_ref().is_some_and(|r| in_new.contains(&r)) {
                new.fhir.push(entry.clone());
            }
        }
        new.attachments.push(attachment.clone());
        carried.kept.push(attachment.name.clone());
    }
    Ok(carried)
}

/// Whether some string in `value` is exactly `url`.
fn refers_to(value: &Value, url: &str) -> bool {
    match value {
        Value::String(s) => s == url,
        Value::Array(items) => items.iter().any(|v| refers_to(v, url)),
        Value::Object(map) => map.values().any(|v| refers_to(v, url)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_safe_names() {
        assert_eq!(safe_name("../../etc/passwd", "x"), "passwd");
        assert_eq!(safe_name("..", "x"), "x");
        assert_eq!(safe_name("a\\b\\report.pdf", "x"), "report.pdf");
        assert_eq!(safe_name(".bashrc", "x"), "bashrc");
        assert_eq!(safe_name("scan\u{202e}fdp.exe", "x"), "scanfdp.exe");
        assert_eq!(safe_name("a\u{1b}[2Jb.pdf", "x"), "a[2Jb.pdf");
        assert_eq!(content_type_of("scan.PDF"), Some("application/pdf"));
        assert_eq!(content_type_of("blob.bin"), None);
    }

    fn attachment(name: &str, digit: char) -> Attachment {
        let blob: crate::blobs::BlobRef = serde_json::from_value(json!({
            "sha256": digit.to_string().repeat(64), "size": 10, "blob_len": 42,
            "chunk_size": 65536, "locator": "", "key": "0".repeat(64),
        }))
        .expect("a blob reference");
        Attachment {
            name: name.into(),
            content_type: None,
            blob,
        }
    }

    fn document(id: &str, sha_digit: char) -> FhirEntry {
        serde_json::from_value(json!({"resource": {
            "resourceType": "DocumentReference", "id": id,
            "content": [{"attachment": {"url": format!("{ATTACHMENT_URL}{}", sha_digit.to_string().repeat(64))}}],
        }}))
        .expect("an entry")
    }

    #[test]
    fn test_a_new_version_keeps_every_attachment_not_dropped() {
        // Simple fields with two files; the new version has none of them.
        let old = Contents {
            attachments: vec![attachment("letter.pdf", 'a'), attachment("scan.dcm", 'b')],
            ..Default::default()
        };
        let mut new = Contents::default();
        let carried = carry_attachments(&old, &mut new, &["scan.dcm".into()]).unwrap();
        assert_eq!(carried.kept, ["letter.pdf"]);
        assert_eq!(carried.dropped, ["scan.dcm"]);
        assert_eq!(new.attachments, vec![attachment("letter.pdf", 'a')]);

        // A FHIR record: the attached letter's DocumentReference comes along;
        // a resource the new bundle has again brings its own copy instead.
        let old = Contents {
            fhir: vec![document("letter", 'a'), document("report", 'b')],
            attachments: vec![attachment("letter.pdf", 'a'), attachment("report.pdf", 'b')],
            ..Default::default()
        };
        let mut new = Contents {
            fhir: vec![document("report", 'c')],
            attachments: vec![attachment("report.pdf", 'c')],
            ..Default::default()
        };
        let carried = carry_attachments(&old, &mut new, &[]).unwrap();
        assert_eq!(carried.kept, ["letter.pdf"]);
        assert_eq!(carried.replaced, ["report.pdf"]);
        assert_eq!(
            new.fhir,
            vec![document("report", 'c'), document("letter", 'a')]
        );
        assert_eq!(
            new.attachments,
            vec![attachment("report.pdf", 'c'), attachment("letter.pdf", 'a')]
        );

        // Dropping a file the record does not have names it.
        let mut new = Contents::default();
        assert_eq!(
            carry_attachments(&old, &mut new, &["x.pdf".into()]),
            Err("x.pdf".to_string())
        );
        assert_eq!(new, Contents::default());
    }
}
