// Package deploy holds no code: its tests drive the scripts and manifests
// in this folder (deploy/slurm.sh on a real one-node Slurm cluster that
// deploy/slurm-cluster.sh starts, and the Kubernetes Jobs decoded strictly
// into the Kubernetes API types), so that what deploy/README.md tells a
// cluster user is what CI runs.
package deploy
