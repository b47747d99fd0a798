//! Objects to and from an S3 API (`--s3`, `--s3-endpoint`) through
//! `object_store`: AWS's S3 with the environment's credentials and region, or
//! any S3 API on an endpoint (moto, LocalStack, MinIO), path-style.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload, RetryConfig,
};

use super::store::{Object, Store, StoreError};

/// The variables one of which holds or points to credentials object_store reads.
const CREDENTIALS: [&str; 4] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
];

/// An S3 API, one client per bucket (as object_store has them), each made when first needed.
pub struct S3Api {
    runtime: tokio::runtime::Runtime,
    endpoint: Option<String>,
    buckets: HashMap<String, Arc<AmazonS3>>,
}

impl S3Api {
    /// Credentials and region come from the environment (`AWS_ACCESS_KEY_ID`, `AWS_REGION`, ...); the
    /// endpoint is `endpoint`, else the AWS CLI's `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`, else AWS's.
    /// Fails here, not at the first object, when they cannot make a client.
    pub fn connect(endpoint: Option<&str>) -> Result<S3Api, String> {
        // object_store would otherwise ask the EC2 instance metadata service, and wait, off EC2.
        if CREDENTIALS
            .iter()
            .all(|name| std::env::var_os(name).is_none())
        {
            return Err(format!(
                "the S3 API needs credentials in the environment ({}); \
                 `eval \"$(aws configure export-credentials --format env)\"` puts a profile's there",
                CREDENTIALS.join(", ")
            ));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the S3 client's runtime: {e}"))?;
        let mut api = S3Api {
            runtime,
            endpoint: endpoint
                .map(str::to_owned)
                .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok()),
            buckets: HashMap::new(),
        };
        // Any valid bucket name checks the configuration once.
        api.bucket("configuration-check")?;
        Ok(api)
    }

    fn bucket(&mut self, name: &str) -> Result<Arc<AmazonS3>, String> {
        if let Some(client) = self.buckets.get(name) {
            return Ok(client.clone());
        }
        // One attempt a request: sink::delivery retries, for the run's own time budget.
        let once = RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(name)
            .with_retry(once);
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            builder = builder.with_region("us-east-1");
        }
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        let client = Arc::new(builder.build().map_err(|e| format!("S3 API: {e}"))?);
        self.buckets.insert(name.to_owned(), client.clone());
        Ok(client)
    }

    /// The keys under `prefix` in `bucket`, in key order.
    pub fn list(&mut self, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
        let client = self.bucket(bucket)?;
        let prefix = prefix.trim_end_matches('/');
        let under = match prefix {
            "" => None,
            prefix => Some(key_path(prefix).map_err(|e| e.to_string())?),
        };
        let mut keys = Vec::new();
        self.runtime.block_on(async {
            let mut listing = client.list(under.as_ref());
            while let Some(object) = listing.next().await {
                let object =
                    object.map_err(|e| format!("cannot list s3://{bucket}/{prefix}: {e}"))?;
                keys.push(object.location.to_string());
            }
            Ok::<(), String>(())
        })?;
        keys.sort();
        Ok(keys)
    }

    /// One object's bytes.
    pub fn get(&mut self, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
        let client = self.bucket(bucket)?;
        let path = key_path(key).map_err(|e| e.to_string())?;
        let read = async { client.get(&path).await?.bytes().await };
        self.runtime
            .block_on(read)
            .map(|bytes| bytes.to_vec())
            .map_err(|e| format!("cannot read s3://{bucket}/{key}: {e}"))
    }
}

impl Store for S3Api {
    /// With `Content-Type: application/octet-stream` and the `Content-Encoding`, as AWS puts its objects.
    fn put(&mut self, object: &Object<'_>) -> Result<(), StoreError> {
        let Object {
            bucket,
            key,
            bytes,
            content_encoding,
        } = *object;
        let failed = |message: String| StoreError::S3 {
            object: format!("s3://{bucket}/{key}"),
            message,
        };
        let client = self.bucket(bucket).map_err(failed)?;
        let path = key_path(key)?;
        let payload = PutPayload::from(bytes.to_vec());
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, "application/octet-stream".into());
        if let Some(encoding) = content_encoding {
            attributes.insert(Attribute::ContentEncoding, encoding.into());
        }
        let options = PutOptions {
            attributes,
            ..PutOptions::default()
        };
        self.runtime
            .block_on(client.put_opts(&path, payload, options))
            .map(|_| ())
            .map_err(|e| failed(e.to_string()))
    }
}

/// The key as it is: object_store would re-encode (`Path::from`) or drop (`//`, a leading `/`) what it
/// does not take, and the object would land under another key than Firehose's, so such keys are refused.
fn key_path(key: &str) -> Result<Path, StoreError> {
    let refused = || StoreError::Unwritable(key.to_owned());
    if key.starts_with('/') || key.ends_with('/') {
        return Err(refused());
    }
    let path = Path::parse(key).map_err(|_| refused())?;
    if path.as_ref() == key {
        Ok(path)
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_taken_as_they_are_or_refused() {
        let key = "rawdata/2026/12/01/10/local-stream-1-2026-12-01-10-00-00-x y+z=é.gz";
        assert_eq!(key_path(key).unwrap().as_ref(), key);
        for bad in ["/abs", "a//b", "a/../b", "a/./b", "a/b/", "a\u{1}b"] {
            assert!(key_path(bad).is_err(), "{bad}");
        }
    }
}
