"""The comparison pipeline (dvc.yaml): what each stage runs, from the profile to the results.

profile, profile_schema  params.yaml read, and checked whole (`irnext params check`)
stages                   the `irnext` commands of each dvc.yaml stage (`irnext bench STAGE`)
cell, paper, convergence one (task, model, seed): its training, scoring and records
summary, cost             the per-task metrics and visuals; the models' cost
layout                    where every result lives: the one module writers and readers share
launch, jobs, stale, status, verify  the stale cells as submitit jobs (`irnext bench launch`)

Modules are imported on their own (nothing here imports them), so a stage pays only for what
it runs; `irnext.cli` parses arguments and calls these.
"""
