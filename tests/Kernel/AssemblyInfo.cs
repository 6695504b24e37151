// Every kernel test shares one kernel (devices, loop devices, names): run them one at a time.
// (Side by side they gained nothing: the guest's two vCPUs get ~1.2 of the host's cores.)
[assembly: Xunit.v3.Parallelization(Mode = Xunit.Sdk.ParallelMode.None)]
