// Package s3store is desync's S3 backend: chunk and index stores in an S3
// bucket (AWS, MinIO, versitygw, Ceph, …) through minio-go.
//
// Importing it registers the schemes "s3+http" and "s3+https" with
// storage.DefaultRegistry.
package s3store
