! lsms_surrogate_f: Fortran 2003 (iso_c_binding) interface to the LSMS-Surrogate C API
! (lsms_surrogate.h; read it for the meaning of every call). Compile this file with your code
! (CMake: link LSMSSurrogate::lsms_surrogate_fortran) and link liblsms_surrogate.
!
! Conventions as in C: status codes (LSMS_SURROGATE_OK = 0), species and site indices from 0,
! energies in Ry, charges in e, moments in muB, lengths in Bohr. Arrays are the C arrays seen
! column-major: occupation(num_sites, num_configs), charge(num_sites, num_configs),
! positions(3, num_sites). The handle is a type(c_ptr).
!
! Convenience wrappers take Fortran strings: lsms_surrogate_open_f, lsms_surrogate_error_f,
! lsms_surrogate_open_error_f, lsms_surrogate_species_f.
module lsms_surrogate_f
  use, intrinsic :: iso_c_binding
  implicit none
  private

  integer(c_int), parameter, public :: LSMS_SURROGATE_OK = 0
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_ARGUMENT = 1
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_FILE = 2
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_SIZE = 3
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_SPECIES = 4
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_POSITION = 5
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_TASK = 6
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_STATE = 7
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_BACKEND = 8
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_MEMORY = 9
  integer(c_int), parameter, public :: LSMS_SURROGATE_ERROR_INTERNAL = 10
  integer(c_int), parameter, public :: LSMS_SURROGATE_TASK_ENERGY = 1
  integer(c_int), parameter, public :: LSMS_SURROGATE_TASK_CHARGE = 2
  integer(c_int), parameter, public :: LSMS_SURROGATE_TASK_MOMENT = 4

  public :: lsms_surrogate_version, lsms_surrogate_close
  public :: lsms_surrogate_num_sites, lsms_surrogate_num_species, lsms_surrogate_num_models
  public :: lsms_surrogate_tasks, lsms_surrogate_lattice, lsms_surrogate_positions
  public :: lsms_surrogate_species_from_Z, lsms_surrogate_map_positions
  public :: lsms_surrogate_evaluate
  public :: lsms_surrogate_mc_set, lsms_surrogate_mc_propose, lsms_surrogate_mc_accept
  public :: lsms_surrogate_mc_reject, lsms_surrogate_mc_walker
  public :: lsms_surrogate_open_f, lsms_surrogate_error_f, lsms_surrogate_open_error_f
  public :: lsms_surrogate_species_f

  ! Optional outputs of the C API (NULL) are c_null_ptr here, hence type(c_ptr), value for
  ! them; pass c_loc(array) for the ones wanted (the arrays need the target attribute).
  interface
    subroutine lsms_surrogate_version(major, minor, patch) bind(c, name="lsms_surrogate_version")
      import :: c_int
      integer(c_int), intent(out) :: major, minor, patch
    end subroutine

    subroutine lsms_surrogate_close(handle) bind(c, name="lsms_surrogate_close")
      import :: c_ptr
      type(c_ptr), value :: handle
    end subroutine

    integer(c_int) function lsms_surrogate_num_sites(handle, n) &
        bind(c, name="lsms_surrogate_num_sites")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), intent(out) :: n
    end function

    integer(c_int) function lsms_surrogate_num_species(handle, n) &
        bind(c, name="lsms_surrogate_num_species")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), intent(out) :: n
    end function

    integer(c_int) function lsms_surrogate_num_models(handle, n) &
        bind(c, name="lsms_surrogate_num_models")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), intent(out) :: n
    end function

    integer(c_int) function lsms_surrogate_tasks(handle, tasks) bind(c, name="lsms_surrogate_tasks")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), intent(out) :: tasks
    end function

    ! kind: character(kind=c_char) :: kind(kind_size), NUL-terminated on return.
    integer(c_int) function lsms_surrogate_lattice(handle, kind, kind_size, a, c, supercell) &
        bind(c, name="lsms_surrogate_lattice")
      import :: c_ptr, c_int, c_char, c_double
      type(c_ptr), value :: handle
      character(kind=c_char), intent(out) :: kind(*)
      integer(c_int), value :: kind_size
      real(c_double), intent(out) :: a, c
      integer(c_int), intent(out) :: supercell(3)
    end function

    integer(c_int) function lsms_surrogate_positions(handle, positions) &
        bind(c, name="lsms_surrogate_positions")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: handle
      real(c_double), intent(out) :: positions(3, *)
    end function

    integer(c_int) function lsms_surrogate_species_from_Z(handle, count, Z, species) &
        bind(c, name="lsms_surrogate_species_from_Z")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), value :: count
      integer(c_int), intent(in) :: Z(*)
      integer(c_int), intent(out) :: species(*)
    end function

    integer(c_int) function lsms_surrogate_map_positions(handle, count, positions, tolerance, &
        site) bind(c, name="lsms_surrogate_map_positions")
      import :: c_ptr, c_int, c_double
      type(c_ptr), value :: handle
      integer(c_int), value :: count
      real(c_double), intent(in) :: positions(3, *)
      real(c_double), value :: tolerance
      integer(c_int), intent(out) :: site(*)
    end function

    integer(c_int) function lsms_surrogate_evaluate(handle, num_configs, num_sites, occupation, &
        energy, energy_std, charge, charge_std, moment, moment_std) &
        bind(c, name="lsms_surrogate_evaluate")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), value :: num_configs, num_sites
      integer(c_int), intent(in) :: occupation(*)
      type(c_ptr), value :: energy, energy_std, charge, charge_std, moment, moment_std
    end function

    integer(c_int) function lsms_surrogate_mc_set(handle, num_walkers, num_sites, occupation, &
        energy, energy_std) bind(c, name="lsms_surrogate_mc_set")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), value :: num_walkers, num_sites
      integer(c_int), intent(in) :: occupation(*)
      type(c_ptr), value :: energy, energy_std
    end function

    integer(c_int) function lsms_surrogate_mc_propose(handle, site_i, site_j, delta_energy, &
        energy, energy_std) bind(c, name="lsms_surrogate_mc_propose")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), intent(in) :: site_i(*), site_j(*)
      type(c_ptr), value :: delta_energy, energy, energy_std
    end function

    integer(c_int) function lsms_surrogate_mc_accept(handle, walker) &
        bind(c, name="lsms_surrogate_mc_accept")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), value :: walker
    end function

    integer(c_int) function lsms_surrogate_mc_reject(handle, walker) &
        bind(c, name="lsms_surrogate_mc_reject")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), value :: walker
    end function

    integer(c_int) function lsms_surrogate_mc_walker(handle, walker, occupation, energy, &
        energy_std) bind(c, name="lsms_surrogate_mc_walker")
      import :: c_ptr, c_int
      type(c_ptr), value :: handle
      integer(c_int), value :: walker
      type(c_ptr), value :: occupation, energy, energy_std
    end function

    ! Raw C functions behind the string wrappers below.
    integer(c_int) function c_open(paths, num_paths, backend, num_threads, handle) &
        bind(c, name="lsms_surrogate_open")
      import :: c_ptr, c_int
      type(c_ptr), intent(in) :: paths(*)
      integer(c_int), value :: num_paths
      type(c_ptr), value :: backend
      integer(c_int), value :: num_threads
      type(c_ptr), intent(out) :: handle
    end function

    type(c_ptr) function c_error(handle) bind(c, name="lsms_surrogate_error")
      import :: c_ptr
      type(c_ptr), value :: handle
    end function

    type(c_ptr) function c_open_error() bind(c, name="lsms_surrogate_open_error")
      import :: c_ptr
    end function

    integer(c_int) function c_species(handle, index, Z, symbol, symbol_size) &
        bind(c, name="lsms_surrogate_species")
      import :: c_ptr, c_int, c_char
      type(c_ptr), value :: handle
      integer(c_int), value :: index
      integer(c_int), intent(out) :: Z
      character(kind=c_char), intent(out) :: symbol(*)
      integer(c_int), value :: symbol_size
    end function

    integer(c_size_t) function c_strlen(s) bind(c, name="strlen")
      import :: c_ptr, c_size_t
      type(c_ptr), value :: s
    end function
  end interface

  ! NUL-terminated copy of one path (open keeps pointers to all of them during the call).
  type :: c_string
    character(kind=c_char), allocatable :: chars(:)
  end type

contains

  ! Opens the model files paths(:) (one ensemble); backend "" means "auto"; threads 0 means the
  ! caller's OpenMP setting. On failure handle is c_null_ptr and lsms_surrogate_open_error_f()
  ! says why.
  integer(c_int) function lsms_surrogate_open_f(paths, backend, threads, handle) result(status)
    character(len=*), intent(in) :: paths(:)
    character(len=*), intent(in) :: backend
    integer, intent(in) :: threads
    type(c_ptr), intent(out) :: handle
    type(c_string), allocatable, target :: copies(:)
    type(c_ptr), allocatable :: pointers(:)
    character(kind=c_char), allocatable, target :: backend_c(:)
    type(c_ptr) :: backend_ptr
    integer :: k
    allocate (copies(size(paths)), pointers(size(paths)))
    do k = 1, size(paths)
      call to_c(paths(k), copies(k)%chars)
      pointers(k) = c_loc(copies(k)%chars)
    end do
    backend_ptr = c_null_ptr
    if (len_trim(backend) > 0) then
      call to_c(backend, backend_c)
      backend_ptr = c_loc(backend_c)
    end if
    status = c_open(pointers, int(size(paths), c_int), backend_ptr, int(threads, c_int), handle)
  end function

  ! Message of the last failed call on handle ("" after a successful one).
  function lsms_surrogate_error_f(handle) result(message)
    type(c_ptr), intent(in) :: handle
    character(len=:), allocatable :: message
    message = from_c(c_error(handle))
  end function

  ! Message of the last failed lsms_surrogate_open_f in this thread.
  function lsms_surrogate_open_error_f() result(message)
    character(len=:), allocatable :: message
    message = from_c(c_open_error())
  end function

  ! Species index (from 0): atomic number and chemical symbol.
  integer(c_int) function lsms_surrogate_species_f(handle, index, Z, symbol) result(status)
    type(c_ptr), intent(in) :: handle
    integer, intent(in) :: index
    integer, intent(out) :: Z
    character(len=*), intent(out) :: symbol
    character(kind=c_char) :: buffer(8)
    integer(c_int) :: z_c
    integer :: k
    status = c_species(handle, int(index, c_int), z_c, buffer, int(size(buffer), c_int))
    Z = z_c
    symbol = ""
    if (status /= LSMS_SURROGATE_OK) return
    do k = 1, min(size(buffer), len(symbol))
      if (buffer(k) == c_null_char) exit
      symbol(k:k) = buffer(k)
    end do
  end function

  subroutine to_c(s, chars)
    character(len=*), intent(in) :: s
    character(kind=c_char), allocatable, intent(out) :: chars(:)
    integer :: k, n
    n = len_trim(s)
    allocate (chars(n + 1))
    do k = 1, n
      chars(k) = s(k:k)
    end do
    chars(n + 1) = c_null_char
  end subroutine

  function from_c(p) result(s)
    type(c_ptr), intent(in) :: p
    character(len=:), allocatable :: s
    character(kind=c_char), pointer :: chars(:)
    integer :: k, n
    if (.not. c_associated(p)) then
      s = ""
      return
    end if
    n = int(c_strlen(p))
    call c_f_pointer(p, chars, [n])
    allocate (character(len=n) :: s)
    do k = 1, n
      s(k:k) = chars(k)
    end do
  end function

end module lsms_surrogate_f
