"""The pipeline beyond one machine: its stale cells fanned out as submitit jobs (a Slurm job
array or local subprocesses), each preemption-safe, and recorded in dvc.lock when they end
(`irnext bench launch`; docs/cluster.md)."""
