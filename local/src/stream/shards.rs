//! How a Kinesis data stream spreads records over its shards: each record's
//! hash key (its `ExplicitHashKey`, or the MD5 of its partition key read as a
//! 128-bit number) falls in one shard's range, the ranges splitting the
//! hash-key space evenly as a new stream's shards do.

use md5::{Digest, Md5};

use super::event::push_zero_padded;

/// The hash key Kinesis gives a partition key: its MD5, big-endian.
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// The shard a partition key goes to, of `shards`.
pub fn shard_of(partition_key: &str, shards: u32) -> u32 {
    shard_of_hash(hash_key(partition_key), shards)
}

/// The shard whose range holds `hash`, of `shards`.
pub fn shard_of_hash(hash: u128, shards: u32) -> u32 {
    match step(shards) {
        // One shard holds the whole space.
        None => 0,
        Some(step) => u32::try_from(hash / step).map_or(shards - 1, |n| n.min(shards - 1)),
    }
}

/// The first and last hash key of `shard`, of `shards`: each range is
/// ⌊2¹²⁸ / shards⌋ keys, and the last one ends at 2¹²⁸ − 1.
pub fn hash_range(shard: u32, shards: u32) -> (u128, u128) {
    let Some(step) = step(shards) else {
        return (0, u128::MAX);
    };
    let start = step * u128::from(shard);
    let end = if shard + 1 >= shards {
        u128::MAX
    } else {
        start + step - 1
    };
    (start, end)
}

/// ⌊2¹²⁸ / shards⌋, or `None` for one shard (2¹²⁸ does not fit in a u128).
fn step(shards: u32) -> Option<u128> {
    let shards = u128::from(shards);
    if shards <= 1 {
        return None;
    }
    // ⌊(2¹²⁸ − 1) / n⌋ is ⌊2¹²⁸ / n⌋ unless n divides 2¹²⁸.
    let divides = u128::MAX % shards == shards - 1;
    Some(u128::MAX / shards + u128::from(divides))
}

/// `shardId-000000000003`.
pub fn shard_id(shard: u32) -> String {
    let mut id = String::with_capacity(20);
    id.push_str("shardId-");
    push_zero_padded(&mut id, shard.into(), 12);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_shards_end_where_aws_cli_shows_them() {
        // The AWS CLI's describe-stream example of a three-shard stream.
        let ends: Vec<u128> = (0..3).map(|s| hash_range(s, 3).1).collect();
        assert_eq!(
            ends,
            [
                113427455640312821154458202477256070484,
                226854911280625642308916404954512140969,
                340282366920938463463374607431768211455,
            ]
        );
        assert_eq!(hash_range(1, 3).0, 113427455640312821154458202477256070485);
        assert_eq!(hash_range(0, 1), (0, u128::MAX));
        assert_eq!(hash_range(3, 4).0, 3 << 126);
    }

    #[test]
    fn partition_keys_hash_as_kinesis_hashes_them() {
        assert_eq!(hash_key("a"), 16955237001963240173058271559858726497);
        assert_eq!(shard_of("a", 3), 0);
        assert_eq!(shard_of("user-42", 3), 1);
        assert_eq!(shard_of("partitionKey-0", 3), 2);
        assert_eq!(shard_of("anything", 1), 0);
        // MD5("b") = 92eb5ffe...: 0x92 / 0x100 of the space, shard 2 of 4.
        assert_eq!(shard_of("b", 4), 2);
    }

    #[test]
    fn every_hash_falls_in_the_range_of_its_shard() {
        for shards in [1, 2, 3, 7, 16, 500] {
            for hash in [0, 1, u128::MAX, u128::MAX - 1, u128::MAX / 3, 1 << 127] {
                let shard = shard_of_hash(hash, shards);
                let (start, end) = hash_range(shard, shards);
                assert!(
                    (start..=end).contains(&hash),
                    "{hash} in shard {shard} of {shards}"
                );
            }
            let mut seen = vec![0; shards as usize];
            for i in 0..400 * shards {
                seen[shard_of(&format!("key-{i}"), shards) as usize] += 1;
            }
            assert!(seen.iter().all(|&n| n > 300), "{shards}: {seen:?}");
        }
    }
}
