//! moto's server for the end-to-end tests (part of the harness): a real
//! Kinesis, Firehose and S3 API on loopback, from the project's `.venv`.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::repo;

/// moto's server on a free loopback port; killed when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Moto {
    /// Starts the server and waits until it listens.
    pub fn start() -> Moto {
        let server = repo().join(".venv/bin/moto_server");
        assert!(
            server.is_file(),
            "{} is missing: run the README's set-up command",
            server.display()
        );
        let port = free_port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// One JSON API call, as the SDK makes it (moto does not check signatures).
    pub fn call(&self, service: &str, target: &str, body: Value) -> Value {
        let agent = crate::answering_agent();
        let mut response = agent
            .post(&self.url)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", target)
            .header(
                "Authorization",
                format!("AWS4-HMAC-SHA256 Credential=test/20240501/eu-west-1/{service}/aws4_request, SignedHeaders=host, Signature=0"),
            )
            .send(serde_json::to_vec(&body).unwrap().as_slice())
            .unwrap();
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        assert_eq!(status, 200, "{target}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// An S3 request, path-style.
    pub fn s3(&self, method: &str, path: &str) -> String {
        let agent = crate::answering_agent();
        let url = format!("{}/{path}", self.url);
        let auth = "AWS4-HMAC-SHA256 Credential=test/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
        let mut response = match method {
            "PUT" => agent
                .put(&url)
                .header("Authorization", auth)
                .send(&[][..])
                .unwrap(),
            _ => agent
                .get(&url)
                .header("Authorization", auth)
                .call()
                .unwrap(),
        };
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap();
        assert_eq!(status, 200, "{method} {path}: {text}");
        text
    }

    /// A header of an S3 object's `HEAD`, path-style.
    pub fn s3_header(&self, path: &str, header: &str) -> Option<String> {
        let agent = crate::answering_agent();
        let response = agent
            .head(format!("{}/{path}", self.url))
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "HEAD {path}");
        response
            .headers()
            .get(header)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    /// An S3 object's bytes, path-style.
    pub fn s3_bytes(&self, path: &str) -> Vec<u8> {
        let agent: ureq::Agent = ureq::Agent::config_builder().build().into();
        agent
            .get(format!("{}/{path}", self.url))
            .header("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240501/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0")
            .call()
            .unwrap()
            .body_mut()
            .read_to_vec()
            .unwrap()
    }

    /// A Direct PUT delivery stream writing to the bucket `landing`.
    pub fn create_delivery_stream(&self, name: &str) {
        self.s3("PUT", "landing");
        self.call(
            "firehose",
            "Firehose_20150804.CreateDeliveryStream",
            json!({"DeliveryStreamName": name, "DeliveryStreamType": "DirectPut",
                "ExtendedS3DestinationConfiguration": {"RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::landing"}}),
        );
    }

    /// The keys of a bucket (up to the 1,000 of one listing page).
    pub fn s3_keys(&self, bucket: &str) -> Vec<String> {
        let listing = self.s3("GET", &format!("{bucket}?list-type=2"));
        listing
            .split("<Key>")
            .skip(1)
            .filter_map(|k| k.split("</Key>").next())
            .map(str::to_owned)
            .collect()
    }

    /// Every object of a bucket, by `bucket/key`.
    pub fn s3_objects(&self, bucket: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        self.s3_keys(bucket)
            .into_iter()
            .map(|key| {
                let path = format!("{bucket}/{key}");
                (path.clone(), self.s3_bytes(&path))
            })
            .collect()
    }

    /// Every record the delivery stream wrote to S3, as the gzip payloads put.
    pub fn delivered_messages(&self) -> Vec<String> {
        let mut messages = Vec::new();
        for key in self.s3_keys("landing") {
            // moto writes each batch's records back to back: gzip members, one payload each.
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(self.s3_bytes(&format!("landing/{key}")).as_slice())
                .read_to_string(&mut text)
                .unwrap();
            for payload in serde_json::Deserializer::from_str(&text).into_iter::<Value>() {
                let payload = payload.unwrap();
                messages.extend(
                    payload["logEvents"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|e| e["message"].as_str().unwrap().to_owned()),
                );
            }
        }
        messages
    }

    /// A Kinesis data stream of one shard.
    pub fn create_stream(&self, name: &str) {
        self.create_stream_of(name, 1);
    }

    /// A Kinesis data stream of `shards` shards.
    pub fn create_stream_of(&self, name: &str, shards: u32) {
        self.call(
            "kinesis",
            "Kinesis_20131202.CreateStream",
            json!({"StreamName": name, "ShardCount": shards}),
        );
    }

    /// Every record of every shard of a stream, by partition key: (shard id, sequence number).
    pub fn stream_records_of(
        &self,
        name: &str,
    ) -> std::collections::BTreeMap<String, (Value, Value)> {
        let shards = self.call(
            "kinesis",
            "Kinesis_20131202.ListShards",
            json!({"StreamName": name}),
        );
        let mut records = std::collections::BTreeMap::new();
        for shard in shards["Shards"].as_array().unwrap() {
            let iterator = self.call(
                "kinesis",
                "Kinesis_20131202.GetShardIterator",
                json!({"StreamName": name, "ShardId": shard["ShardId"], "ShardIteratorType": "TRIM_HORIZON"}),
            );
            let page = self.call(
                "kinesis",
                "Kinesis_20131202.GetRecords",
                json!({"ShardIterator": iterator["ShardIterator"], "Limit": 1000}),
            );
            for record in page["Records"].as_array().unwrap() {
                let key = record["PartitionKey"].as_str().unwrap().to_owned();
                records.insert(
                    key,
                    (shard["ShardId"].clone(), record["SequenceNumber"].clone()),
                );
            }
        }
        records
    }

    /// Puts one record into a Kinesis data stream.
    pub fn put_record(&self, stream: &str, partition_key: &str, data: &[u8]) {
        self.call(
            "kinesis",
            "Kinesis_20131202.PutRecord",
            json!({"StreamName": stream, "PartitionKey": partition_key, "Data": base64_simd::STANDARD.encode_to_string(data)}),
        );
    }

    /// Every record in the stream's one shard: (partition key, data).
    pub fn stream_records(&self, name: &str) -> Vec<(String, Vec<u8>)> {
        let iterator = self.call(
            "kinesis",
            "Kinesis_20131202.GetShardIterator",
            json!({"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "TRIM_HORIZON"}),
        );
        let records = self.call(
            "kinesis",
            "Kinesis_20131202.GetRecords",
            json!({"ShardIterator": iterator["ShardIterator"], "Limit": 1000}),
        );
        records["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let data = base64_simd::STANDARD
                    .decode_to_vec(r["Data"].as_str().unwrap())
                    .unwrap();
                (r["PartitionKey"].as_str().unwrap().to_owned(), data)
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
