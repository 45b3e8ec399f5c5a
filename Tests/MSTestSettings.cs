// Tests within a class run one after another; classes may run in parallel (2 cores: keep it modest).
[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]
