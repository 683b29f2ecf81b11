// Package esemu is an in-process emulator of the subset of the
// Elasticsearch (7.x/8.x) and OpenSearch (1.x/2.x) REST API that the
// Elasticsearch sink uses, for tests: no search server can be installed
// where sluice's tests run.
//
// It owns: the root info endpoint (GET /, with the X-Elastic-Product
// header, or OpenSearch's version.distribution), index creation and
// existence (PUT and HEAD /<index>, resource_already_exists_exception),
// explicit and dynamic mappings (GET/PUT /<index>/_mapping) with
// mapper_parsing_exception (document_parsing_exception from Elasticsearch
// 8.8 on) on a type clash, composable index templates
// (PUT /_index_template/<name>), the typeless _bulk API (index, create,
// delete), single-document GET/PUT/DELETE /<index>/_doc/<id>, _refresh
// and _count. Versioning follows the documented semantics: internal
// versions count up; with version_type=external (or external_gte) a write
// must carry a version strictly greater (or equal) than the current one,
// deletes included, else the item fails with version_conflict_engine_exception
// (409); a delete leaves a versioned tombstone for index.gc_deletes
// (default 60s); deleting a missing document answers not_found (404 item).
//
// For tests it can inject faults into _bulk requests (429 with
// Retry-After, 503, per-item 429 rejections, slow responses, connections
// closed before or after the request was applied) and it logs every
// applied write, so that a test can check that no older version ever
// replaced a newer one (CheckVersions).
//
// It imports only the standard library; nothing outside tests and the
// benchmark (bench/, the sinks' search server) may use it.
package esemu
