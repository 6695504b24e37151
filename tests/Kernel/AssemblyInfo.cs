// Every kernel test shares one kernel (devices, loop devices, names): run them one at a time.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
