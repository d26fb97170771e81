global using System.Globalization;
global using System.Numerics;
global using System.Runtime.InteropServices;
