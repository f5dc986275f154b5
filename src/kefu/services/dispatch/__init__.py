"""Work sent to other teams and organisations: hops (派单) and the routing rules that choose a team and an agent."""
