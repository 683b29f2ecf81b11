// Package deploy holds sluice's container image and Kubernetes manifests
// (kustomize base and overlays) and, in its tests, their validation without
// a cluster: every overlay is rendered with kustomize's krusty, every object
// is decoded strictly into the typed k8s.io/api structs, probes are checked
// against the real REST API's paths and ports, the ConfigMap's sluice.yaml
// must load with configs.Load, and pods must run as non-root.
//
// It is its own Go module so that the Kubernetes and kustomize dependencies
// stay out of sluice's main module.
package deploy
