//! firehose-orc's reader on any bytes: `firehose-local cat` reads whatever
//! files its users point it at, and an ORC file's metadata says how much to
//! read, how deep types nest and how each stream is coded. Each input must
//! end in rows or an error, never a panic; and `cat` must print every row
//! the reader read, one line each, or say why not.

use firehose_local::convert::read_back;
use firehose_orc::Reader;

pub fn run(data: &[u8]) {
    let Ok(reader) = Reader::new(data) else {
        return;
    };
    let read: Result<Vec<_>, _> = reader.stripes().collect();
    let printed = read_back::rows(data);
    match (read, printed) {
        (Ok(batches), Some(Ok((_, lines)))) => {
            let rows: usize = batches.iter().map(|batch| batch.num_rows()).sum();
            let lines = lines.iter().filter(|&&byte| byte == b'\n').count();
            assert_eq!(lines, rows, "cat printed {lines} lines of {rows} rows");
        }
        (Err(_), Some(Err(_))) => {}
        (Ok(_), Some(Err(why))) => panic!("the reader read the file but cat did not: {why}"),
        (read, printed) => panic!(
            "the reader and cat disagree: read {}, cat {}",
            if read.is_ok() { "ok" } else { "failed" },
            match printed {
                Some(Ok(_)) => "printed",
                Some(Err(_)) => "failed",
                None => "saw no ORC file",
            }
        ),
    }
}
