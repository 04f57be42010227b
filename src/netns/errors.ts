// Errors the emulated kernel returns to a configuring command, worded as iproute2 prints them
// ("Cannot find device", "RTNETLINK answers: File exists", "Error: Nexthop has invalid gateway.").

export class NetlinkError extends Error {
  constructor(
    message: string,
    readonly errno: string = 'EINVAL',
  ) {
    super(message);
    this.name = 'NetlinkError';
  }
}
