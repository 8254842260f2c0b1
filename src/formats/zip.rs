//! ZIP archives of PEM files (the Keyfactor Recover call's `ZIP`, the
//! AppViewX download's `zipFileName`): deflate, no encryption inside the
//! archive — the key in it is already encrypted — and a fixed timestamp
//! (1980-01-01, ZIP's epoch), so the same contents give the same bytes.

use std::io::Write;

use zeroize::Zeroizing;
use zip::write::SimpleFileOptions;

use crate::error::{DerError, ExportError};

/// The archive of `members` (name, bytes), in the order given. Members
/// are readable by their owner only (0600) when unpacked by `unzip`.
pub(crate) fn archive(members: &[(&str, &[u8])]) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let failed = |_| ExportError::Encoding {
        what: "ZIP",
        source: DerError::of(der::ErrorKind::Failed),
    };
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o600);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        writer.start_file(*name, options).map_err(failed)?;
        writer.write_all(bytes).map_err(|_| ExportError::Encoding {
            what: "ZIP",
            source: DerError::of(der::ErrorKind::Failed),
        })?;
    }
    Ok(Zeroizing::new(writer.finish().map_err(failed)?.into_inner()))
}
